package mail_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"cartera/mail"
	"cartera/store"
)

// BenchmarkDrainer_Throughput measures the outbox's delivery rate to an
// SMTP server in this process (issue 9: at least 50 messages per second):
// b.N campaign-like messages (both bodies, List-Unsubscribe headers) are
// queued, then one drain delivers them, each over its own SMTP connection
// and with its result recorded in the database.
//
//	go test -run '^$' -bench Drainer_Throughput -benchtime 2000x ./mail/
func BenchmarkDrainer_Throughput(b *testing.B) {
	ctx := context.Background()
	srv := startSMTP(b, "127.0.0.1:0")
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(b.TempDir(), "cartera.db"), PasswordMemoryKiB: 64, PasswordTime: 1, Logger: quiet(), MailDomain: "empresa.example"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	host, port, _ := net.SplitHostPort(srv.addr)
	p, _ := strconv.Atoi(port)
	snd, err := mail.NewSender(mail.Config{Host: host, Port: p, From: "Empresa ABC <crm@empresa.example>", TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	sys := store.SystemActor()
	for i := 0; i < b.N; i++ {
		if _, err := st.QueueEmail(ctx, sys, store.OutgoingEmail{
			Key: fmt.Sprintf("bench:%d", i), To: fmt.Sprintf("p%d@example.com", i), ToName: "Persona", Subject: "Novetats de tardor",
			Text: "Hola,\n\nfins aviat.\n\n-- \nPer donar-vos de baixa: https://crm.empresa.example/m/u/1/2/0123456789abcdef0123456789abcdef\n",
			HTML: "<p>Hola,</p><p>fins aviat.</p>",
			Headers: map[string]string{"List-Unsubscribe": "<https://crm.empresa.example/m/u/1/2/0123456789abcdef0123456789abcdef>",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		}); err != nil {
			b.Fatal(err)
		}
	}
	d := mail.NewDrainer(st, snd)
	d.Logger, d.Batch = quiet(), 50
	b.ResetTimer()
	start := time.Now()
	n, err := d.DrainOnce(ctx)
	if err != nil || n != b.N {
		b.Fatalf("sent %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
}
