package mail_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"cartera/mail"
	"cartera/store"
)

// testCert makes a self-signed certificate for 127.0.0.1 and the pool
// that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestSender_TLS delivers over STARTTLS and implicit TLS to a real SMTP
// server with its own certificate, checks the session was encrypted, and
// refuses to fall back to plain text or to trust an unknown certificate.
func TestSender_TLS(t *testing.T) {
	cert, pool := testCert(t)
	msg := &store.OutboxMessage{Key: "tls:1", MessageID: "tls-1@empresa.example", To: "laura@example.com", Subject: "Hola", Text: "Xifrat"}
	start := func(t *testing.T, mode string, tlsOn bool) (*smtpServer, *bool, int) {
		t.Helper()
		rec := &smtpServer{}
		encrypted := new(bool)
		srv := smtp.NewServer(backendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			return &encryptedSession{session: session{srv: rec}, conn: c, encrypted: encrypted}, nil
		}))
		srv.Domain = "localhost"
		if tlsOn {
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		}
		var ln net.Listener
		var err error
		if mode == "tls" {
			ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
		} else {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		p, _ := strconv.Atoi(port)
		return rec, encrypted, p
	}
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode+" delivers encrypted", func(t *testing.T) {
			rec, encrypted, port := start(t, mode, true)
			snd, err := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: port, TLS: mode, From: "crm@empresa.example", Timeout: 5 * time.Second, RootCAs: pool})
			if err != nil {
				t.Fatal(err)
			}
			if err := snd.Send(t.Context(), msg); err != nil {
				t.Fatal(err)
			}
			if len(rec.received()) != 1 || !*encrypted {
				t.Fatalf("received %d, encrypted %v", len(rec.received()), *encrypted)
			}
		})
		t.Run(mode+" refuses an unknown certificate", func(t *testing.T) {
			rec, _, port := start(t, mode, true)
			snd, _ := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: port, TLS: mode, From: "crm@empresa.example", Timeout: 5 * time.Second})
			if err := snd.Send(t.Context(), msg); err == nil || len(rec.received()) != 0 {
				t.Fatalf("sent to an untrusted server: %v", err)
			}
		})
	}
	t.Run("starttls never falls back to plain text", func(t *testing.T) {
		rec, _, port := start(t, "starttls", false)
		snd, _ := mail.NewSender(mail.Config{Host: "127.0.0.1", Port: port, TLS: "starttls", From: "crm@empresa.example", Timeout: 5 * time.Second, RootCAs: pool})
		if err := snd.Send(t.Context(), msg); err == nil || len(rec.received()) != 0 {
			t.Fatalf("sent without TLS: %v", err)
		}
	})
}

// backendFunc makes a go-smtp Backend of a function.
type backendFunc func(c *smtp.Conn) (smtp.Session, error)

func (f backendFunc) NewSession(c *smtp.Conn) (smtp.Session, error) { return f(c) }

// encryptedSession notes whether its connection was encrypted when the
// message arrived.
type encryptedSession struct {
	session
	conn      *smtp.Conn
	encrypted *bool
}

func (s *encryptedSession) Data(r io.Reader) error {
	_, ok := s.conn.TLSConnectionState()
	*s.encrypted = ok
	return s.session.Data(r)
}
