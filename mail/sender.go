// Package mail sends Cartera's outgoing e-mail: a Sender over SMTP and a
// Drainer that delivers the store's outbox with retries and backoff.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"cartera/store"
)

// Config is the SMTP server and sender address, from the [mail] section.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the sender of every message: "crm@example.com" or
	// "Empresa ABC <crm@example.com>".
	From string
	// TLS is "none", "starttls" (required) or "tls" (implicit TLS).
	TLS     string
	Timeout time.Duration
	// RootCAs, when set, are the certificate authorities trusted for the
	// server's certificate instead of the system's (an office mail server
	// with its own CA, `[mail] ca_file`).
	RootCAs *x509.CertPool
}

// Sender delivers one message at a time to the configured SMTP server.
type Sender struct {
	cfg      Config
	fromName string
	fromAddr string
}

// NewSender checks the configuration and returns a Sender; it does not
// connect yet.
func NewSender(cfg Config) (*Sender, error) {
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("mail: no SMTP host configured")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = "starttls"
	case "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("mail: tls %q is not none, starttls or tls", cfg.TLS)
	}
	if strings.ContainsAny(cfg.From, "\r\n") {
		return nil, errors.New("mail: from contains a line break")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q is not an e-mail address: %w", cfg.From, err)
	}
	return &Sender{cfg: cfg, fromName: from.Name, fromAddr: from.Address}, nil
}

// Server names the SMTP server as host:port, for messages to people.
func (s *Sender) Server() string { return net.JoinHostPort(s.cfg.Host, fmt.Sprint(s.cfg.Port)) }

// FromDomain is the domain of the sender address, used for Message-IDs.
func (s *Sender) FromDomain() string { return s.fromAddr[strings.LastIndexByte(s.fromAddr, '@')+1:] }

// message builds the MIME message for an outbox row; go-mail encodes names
// and subjects, and the store already refused CR/LF in them.
func (s *Sender) message(m *store.OutboxMessage) (*gomail.Msg, error) {
	for _, v := range []string{m.To, m.ToName, m.ReplyTo, m.Subject, m.MessageID} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, &Error{Permanent: true, Err: errors.New("line break in a header value")}
		}
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.fromName, s.fromAddr); err != nil {
		return nil, &Error{Permanent: true, Err: err}
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, &Error{Permanent: true, Err: err}
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, &Error{Permanent: true, Err: err}
		}
	}
	msg.Subject(m.Subject)
	// Extra headers (List-Unsubscribe, RFC 8058) in a fixed order; the
	// store allow-lists their names and refused control characters.
	for _, name := range store.OutboxHeaders {
		v, ok := m.Headers[name]
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, &Error{Permanent: true, Err: errors.New("line break in a header value")}
		}
		msg.SetGenHeader(gomail.Header(name), v)
	}
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if strings.TrimSpace(m.HTML) != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		if strings.ContainsAny(a.Name+a.Type, "\r\n") {
			return nil, &Error{Permanent: true, Err: errors.New("line break in an attachment's name or type")}
		}
		if a.Inline {
			// go-mail gives an embedded file the Content-ID <NAME>.
			msg.EmbedReadSeeker(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.Type)))
			continue
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.Type)))
	}
	return msg, nil
}

// client opens a go-mail client for one delivery.
func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.TLS != "none" {
		// Certificates are always verified against the host name; only the
		// trusted authorities may change.
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	if d := s.FromDomain(); d != "" {
		opts = append(opts, gomail.WithHELO(d))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// Send delivers one outbox message; a failure is an *Error saying whether
// trying again later may help.
func (s *Sender) Send(ctx context.Context, m *store.OutboxMessage) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	c, err := s.client()
	if err != nil {
		return &Error{Permanent: true, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// Error is a failed delivery: the SMTP reply code when the server gave one,
// and whether the failure is permanent (5xx) or temporary (4xx, connection
// refused, timeouts), which the drainer retries later.
type Error struct {
	Code      int
	Permanent bool
	Err       error
}

// Error describes the failure with the server's answer when there is one.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap exposes the cause.
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery failure that retrying will
// not fix.
func IsPermanent(err error) bool {
	var me *Error
	return errors.As(err, &me) && me.Permanent
}

// classify turns a go-mail or network error into an *Error by the SMTP
// reply code: 5xx is permanent; 4xx, no code (connection refused, reset,
// timeouts, TLS handshake) is temporary.
func classify(err error) *Error {
	code := 0
	var se *gomail.SendError
	if errors.As(err, &se) {
		code = se.ErrorCode()
	}
	if code == 0 {
		var te *textproto.Error
		if errors.As(err, &te) {
			code = te.Code
		}
	}
	return &Error{Code: code, Permanent: code >= 500 && code < 600, Err: err}
}
