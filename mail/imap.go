package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	_ "github.com/emersion/go-message/charset" // decode ISO-8859-1, Windows-1252 and other charsets
	gomsg "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

	"cartera/store"
)

// DropboxConfig says how to reach the dropbox mailbox.
type DropboxConfig struct {
	// Address is host:port.
	Address string
	// Security is "tls" (imaps://), "starttls" or "none".
	Security string
	Username string
	Password string
	// Mailbox is the folder polled, INBOX by default.
	Mailbox string
}

// ParseDropboxURL reads the [mail] dropbox setting,
// imaps://user:password@host:993/INBOX (imap:// is unencrypted unless
// ?tls=starttls is added), so configuration and poller agree on one format.
func ParseDropboxURL(v string) (DropboxConfig, error) {
	u, err := url.Parse(v)
	if err != nil {
		return DropboxConfig{}, errors.New("not a URL")
	}
	var c DropboxConfig
	port := ""
	switch u.Scheme {
	case "imaps":
		c.Security, port = "tls", "993"
	case "imap":
		c.Security, port = "none", "143"
		switch t := u.Query().Get("tls"); t {
		case "", "none":
		case "starttls":
			c.Security = "starttls"
		default:
			return DropboxConfig{}, fmt.Errorf("tls=%q is not starttls or none", t)
		}
	default:
		return DropboxConfig{}, errors.New("the scheme is not imap:// or imaps://")
	}
	if u.Hostname() == "" {
		return DropboxConfig{}, errors.New("no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	c.Address = net.JoinHostPort(u.Hostname(), port)
	if u.User == nil || u.User.Username() == "" {
		return DropboxConfig{}, errors.New("no user name (imaps://USER:PASSWORD@host/INBOX)")
	}
	c.Username = u.User.Username()
	c.Password, _ = u.User.Password()
	c.Mailbox = strings.TrimPrefix(u.Path, "/")
	if c.Mailbox == "" {
		c.Mailbox = "INBOX"
	}
	return c, nil
}

// Poller reads the dropbox mailbox every Interval and hands each new
// message to the store, which logs it on the matching contacts and leads or
// keeps it for the inbox page. Messages are never deleted; they are marked
// \Seen. The store remembers the last UID read and every Message-ID, so a
// message is processed once across polls and restarts.
type Poller struct {
	st  *store.Store
	cfg DropboxConfig
	// Interval is the time between two polls (default 1 minute).
	Interval time.Duration
	// Timeout bounds connecting and each IMAP command (default 30s).
	Timeout time.Duration
	// TLSConfig replaces the default TLS settings (tests trust their own
	// certificate with it).
	TLSConfig *tls.Config
	// Batch is how many messages one FETCH reads (default 20).
	Batch int
	// MaxBytes is how much of each message is read; the text comes first,
	// attachments beyond it are not needed (default 4 MiB).
	MaxBytes int64
	// Logger receives errors and one line per poll that found mail.
	Logger *slog.Logger
	// Record stores one message and reports whether it was new; nil means
	// the dropbox (store.LogInboundEmail). The support mailbox sets it to
	// store.CaseFromEmail through CaseRecorder.
	Record func(ctx context.Context, a *store.Actor, in store.InboundEmail) (bool, error)
	// Name is what the logs call the mailbox ("e-mail dropbox" by default).
	Name string
}

// CaseRecorder is the Record function of the support mailbox: each message
// opens a case or adds to the one it answers.
func CaseRecorder(st *store.Store) func(ctx context.Context, a *store.Actor, in store.InboundEmail) (bool, error) {
	return func(ctx context.Context, a *store.Actor, in store.InboundEmail) (bool, error) {
		_, created, err := st.CaseFromEmail(ctx, a, in)
		return created, err
	}
}

// record hands one message to the configured store function.
func (p *Poller) record(ctx context.Context, a *store.Actor, in store.InboundEmail) (bool, error) {
	if p.Record != nil {
		return p.Record(ctx, a, in)
	}
	_, created, err := p.st.LogInboundEmail(ctx, a, in)
	return created, err
}

func (p *Poller) name() string {
	if p.Name != "" {
		return p.Name
	}
	return "e-mail dropbox"
}

// NewPoller returns a Poller over the store and the dropbox.
func NewPoller(st *store.Store, cfg DropboxConfig) *Poller {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	return &Poller{st: st, cfg: cfg}
}

// Mailbox names the dropbox without its password, as logs and the store's
// cursor know it.
func (p *Poller) Mailbox() string {
	scheme := "imaps"
	if p.cfg.Security != "tls" {
		scheme = "imap"
	}
	return scheme + "://" + url.User(p.cfg.Username).String() + "@" + p.cfg.Address + "/" + p.cfg.Mailbox
}

func (p *Poller) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Poller) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 30 * time.Second
}

// Run polls until ctx is cancelled; errors are logged and the next poll
// tries again.
func (p *Poller) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
			p.log().Error("reading the "+p.name(), "mailbox", p.Mailbox(), "err", err)
		} else if n > 0 {
			p.log().Info("read the "+p.name(), "mailbox", p.Mailbox(), "messages", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dial connects and signs in.
func (p *Poller) dial() (*imapclient.Client, error) {
	host, _, _ := net.SplitHostPort(p.cfg.Address)
	tc := p.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	opts := &imapclient.Options{TLSConfig: tc, Dialer: &net.Dialer{Timeout: p.timeout()}}
	var c *imapclient.Client
	var err error
	switch p.cfg.Security {
	case "tls":
		c, err = imapclient.DialTLS(p.cfg.Address, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(p.cfg.Address, opts)
	default:
		c, err = imapclient.DialInsecure(p.cfg.Address, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", p.cfg.Address, err)
	}
	if err := c.Login(p.cfg.Username, p.cfg.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("signing in as %s: %w", p.cfg.Username, err)
	}
	return c, nil
}

// PollOnce reads every message that arrived since the last poll, in UID
// order, and returns how many new ones the store recorded. It stops at the
// first message the store cannot record, so none is skipped.
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	sys := store.SystemActor()
	c, err := p.dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	// A cancelled context closes the connection, ending any command.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	sel, err := c.Select(p.cfg.Mailbox, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("opening %s: %w", p.cfg.Mailbox, err)
	}
	box := p.Mailbox()
	validity, last, err := p.st.InboundCursor(ctx, sys, box)
	if err != nil {
		return 0, err
	}
	if validity != sel.UIDValidity {
		last = 0 // a new mailbox, or one rebuilt by the server: read it all
	}
	if sel.NumMessages == 0 {
		return 0, c.Logout().Wait()
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	found, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("searching %s: %w", p.cfg.Mailbox, err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		// "n:*" always matches the last message, even below n.
		if uint32(u) > last {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	batch := p.Batch
	if batch <= 0 {
		batch = 20
	}
	maxBytes := p.MaxBytes
	if maxBytes <= 0 {
		// Room for the text and a few office-sized attachments.
		maxBytes = 32 << 20
	}
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: maxBytes}}
	logged := 0
	for len(uids) > 0 && ctx.Err() == nil {
		n := min(batch, len(uids))
		chunk := uids[:n]
		uids = uids[n:]
		msgs, err := c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return logged, fmt.Errorf("fetching messages: %w", err)
		}
		slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
		var done []imap.UID
		for _, m := range msgs {
			var raw []byte
			if len(m.BodySection) > 0 {
				raw = m.BodySection[0].Bytes
			}
			in := ParseMessage(raw)
			in.Mailbox, in.UIDValidity, in.UID = box, sel.UIDValidity, uint32(m.UID)
			if in.Date.IsZero() {
				in.Date = m.InternalDate
			}
			created, err := p.record(context.WithoutCancel(ctx), sys, in)
			if err != nil {
				p.markSeen(c, done)
				return logged, fmt.Errorf("recording message UID %d: %w", m.UID, err)
			}
			if created {
				logged++
			}
			done = append(done, m.UID)
		}
		p.markSeen(c, done)
	}
	if ctx.Err() != nil {
		return logged, nil
	}
	return logged, c.Logout().Wait()
}

// markSeen flags processed messages \Seen, so people looking at the
// mailbox see what Cartera read; a failure only costs the flag.
func (p *Poller) markSeen(c *imapclient.Client, uids []imap.UID) {
	if len(uids) == 0 {
		return
	}
	err := c.Store(imap.UIDSetNum(uids...), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	if err != nil {
		p.log().Warn("marking dropbox messages as read", "mailbox", p.Mailbox(), "err", err)
	}
}

// maxInboundFile bounds one attachment kept from a dropbox message.
const maxInboundFile = 25 << 20

// ParseMessage reads a raw e-mail into what the store logs: addresses,
// subject, date, Message-ID and the text (text/plain, else the HTML part's
// text), plus the original sender of a forwarded message. It never fails: a
// broken message gives what could be read.
func ParseMessage(raw []byte) store.InboundEmail {
	var in store.InboundEmail
	r, _ := gomsg.CreateReader(bytes.NewReader(raw)) // an unknown charset still gives a reader
	if r == nil {
		in.Text = string(raw)
		return in
	}
	h := r.Header
	if l, _ := h.AddressList("From"); len(l) > 0 {
		in.From = store.MailAddress{Name: l[0].Name, Email: l[0].Address}
	}
	in.To = addrs(h, "To")
	in.Cc = addrs(h, "Cc")
	for _, v := range h.Values("Delivered-To") {
		in.DeliveredTo = append(in.DeliveredTo, strings.Trim(strings.TrimSpace(v), "<>"))
	}
	in.Subject, _ = h.Subject()
	if in.Subject == "" {
		in.Subject = h.Get("Subject")
	}
	if id, err := h.MessageID(); err == nil {
		in.MessageID = id
	} else {
		in.MessageID = strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
	}
	in.Date, _ = h.Date()
	for _, k := range []string{"In-Reply-To", "References"} {
		if ids, err := h.MsgIDList(k); err == nil {
			in.References = append(in.References, ids...)
		}
	}
	if len(in.References) > 50 {
		in.References = in.References[len(in.References)-50:]
	}

	var plain, htmlText string
	for {
		part, _ := r.NextPart()
		if part == nil {
			break // the end, or a part too broken to read (a cut message)
		}
		switch ph := part.Header.(type) {
		case *gomsg.InlineHeader:
			t, _, _ := ph.ContentType()
			b, _ := io.ReadAll(io.LimitReader(part.Body, 1<<20))
			switch {
			case t == "text/plain" && plain == "":
				plain = string(b)
			case t == "text/html" && htmlText == "":
				htmlText = htmlToText(string(b))
			}
		case *gomsg.AttachmentHeader:
			t, _, _ := ph.ContentType()
			if t != "message/rfc822" {
				// A file is kept only when read whole: a message cut at the
				// poller's size limit loses the files past the cut.
				name, _ := ph.Filename()
				if b, err := io.ReadAll(io.LimitReader(part.Body, maxInboundFile+1)); err == nil && len(b) > 0 && len(b) <= maxInboundFile && len(in.Files) < 20 {
					in.Files = append(in.Files, store.InboundFile{Name: name, Data: b})
				}
				continue
			}
			if in.ForwardedFrom.Email == "" {
				if fr, _ := gomsg.CreateReader(io.LimitReader(part.Body, 1<<20)); fr != nil {
					if l, _ := fr.Header.AddressList("From"); len(l) > 0 {
						in.ForwardedFrom = store.MailAddress{Name: l[0].Name, Email: l[0].Address}
					}
				}
			}
		}
	}
	in.Text = plain
	if strings.TrimSpace(in.Text) == "" {
		in.Text = htmlText
	}
	if in.ForwardedFrom.Email == "" {
		in.ForwardedFrom = forwardedFrom(in.Text)
	}
	return in
}

func addrs(h gomsg.Header, key string) []store.MailAddress {
	l, err := h.AddressList(key)
	if err != nil {
		// A malformed list: take the addresses net/mail can still read.
		l2, _ := netmail.ParseAddressList(h.Get(key))
		for _, a := range l2 {
			l = append(l, &gomsg.Address{Name: a.Name, Address: a.Address})
		}
	}
	out := make([]store.MailAddress, 0, len(l))
	for _, a := range l {
		out = append(out, store.MailAddress{Name: a.Name, Email: a.Address})
	}
	return out
}

// forwardMarker starts the quoted header block mail programs write when
// forwarding inline (English, Catalan, Spanish; Gmail, Outlook, Apple Mail,
// Thunderbird).
var forwardMarker = regexp.MustCompile(`(?im)^\s*(-{2,}\s*(forwarded message|original message|missatge reenviat|missatge original|mensaje reenviado|mensaje original)\s*-{2,}|begin forwarded message:|inici del missatge reenviat:|comienzo del mensaje reenviado:)`)

// forwardFrom is the sender line of that block.
var forwardFrom = regexp.MustCompile(`(?im)^\s*\*?(from|de|von)\s*:\*?\s*(.+)$`)

var bareAddr = regexp.MustCompile(`[^\s<>"'()\[\]:;,]+@[^\s<>"'()\[\]:;,]+\.[^\s<>"'()\[\]:;,]+`)

// forwardedFrom finds the original sender in an inline-forwarded body.
func forwardedFrom(text string) store.MailAddress {
	loc := forwardMarker.FindStringIndex(text)
	if loc == nil {
		return store.MailAddress{}
	}
	rest := text[loc[1]:]
	if len(rest) > 4000 {
		rest = rest[:4000]
	}
	m := forwardFrom.FindStringSubmatch(rest)
	if m == nil {
		return store.MailAddress{}
	}
	line := strings.TrimSpace(m[2])
	if a, err := netmail.ParseAddress(line); err == nil {
		return store.MailAddress{Name: a.Name, Email: a.Address}
	}
	addr := bareAddr.FindString(line)
	if addr == "" {
		return store.MailAddress{}
	}
	name := strings.TrimSpace(strings.Trim(strings.TrimSpace(strings.Replace(line, addr, "", 1)), "<>[]()\"' "))
	if strings.HasPrefix(name, "mailto") {
		name = ""
	}
	return store.MailAddress{Name: name, Email: addr}
}

// htmlToText keeps the readable text of an HTML body: no tags, scripts or
// styles; block elements and <br> become line breaks.
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapseBlank(b.String())
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
				b.WriteByte(' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			start := tt != html.EndTagToken
			switch tag {
			case "script", "style", "head", "title":
				if start {
					skip++
				} else if skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr":
				b.WriteByte('\n')
			}
		}
	}
}

// collapseBlank trims each line and keeps at most one empty line in a row.
func collapseBlank(s string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
