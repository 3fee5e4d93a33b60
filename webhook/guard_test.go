package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"cartera/webhook"
)

// refusal returns the guard's reason behind err, "" when it is no refusal.
func refusal(err error) string {
	var rf *webhook.Refused
	if errors.As(err, &rf) {
		return rf.Reason
	}
	return ""
}

func TestGuard_Refuses(t *testing.T) {
	ctx := context.Background()
	g, err := webhook.NewGuard(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A name that resolves to a private address, as a hostile or careless
	// DNS record would make it.
	g.LookupIP = func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "erp.example.com":
			return []netip.Addr{netip.MustParseAddr("10.1.2.3")}, nil
		case "mixed.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")}, nil
		case "localhost":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
		case "public.example.com":
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		return nil, errors.New("no such host")
	}
	cases := []struct{ url, reason string }{
		{"http://127.0.0.1:8080/hook", webhook.ReasonLoopback},
		{"http://[::1]/hook", webhook.ReasonLoopback},
		{"http://[::ffff:127.0.0.1]/hook", webhook.ReasonLoopback},
		{"http://169.254.169.254/latest/meta-data/", webhook.ReasonLinkLocal},
		{"http://192.168.1.20/", webhook.ReasonPrivate},
		{"http://172.16.0.1/", webhook.ReasonPrivate},
		{"http://[fd00::1]/", webhook.ReasonPrivate},
		{"http://0.0.0.0/", webhook.ReasonUnspecified},
		{"http://224.0.0.1/", webhook.ReasonMulticast},
		{"http://100.64.0.1/", webhook.ReasonReserved},
		{"http://erp.example.com/hook", webhook.ReasonPrivate},
		{"http://localhost:9000/", webhook.ReasonLoopback},
		{"http://mixed.example.com/", webhook.ReasonLoopback},
		{"ftp://public.example.com/", webhook.ReasonScheme},
		{"file:///etc/passwd", webhook.ReasonScheme},
		{"http:///nohost", webhook.ReasonHost},
		{"http://unknown.invalid/", webhook.ReasonResolve},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			err := g.CheckURL(ctx, c.url)
			if got := refusal(err); got != c.reason {
				t.Fatalf("CheckURL(%s) = %v, want reason %s", c.url, err, c.reason)
			}
			if !strings.HasPrefix(err.Error(), "refused: ") {
				t.Errorf("message %q does not say refused", err)
			}
		})
	}
	t.Run("public address passes", func(t *testing.T) {
		if err := g.CheckURL(ctx, "https://public.example.com/hook"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the dial refuses too, without the pre-check", func(t *testing.T) {
		c := g.Client()
		for _, u := range []string{"http://127.0.0.1:1/", "http://169.254.169.254/", "http://erp.example.com/"} {
			resp, err := c.Get(u)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s reached the network", u)
			}
			if refusal(err) == "" {
				t.Fatalf("GET %s: %v is not a refusal", u, err)
			}
		}
	})
}

func TestGuard_AllowList(t *testing.T) {
	ctx := context.Background()
	var got string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Test")
		w.Write([]byte("ok"))
	}))
	defer recv.Close()

	t.Run("allow-listed loopback receiver works", func(t *testing.T) {
		g, err := webhook.NewGuard([]string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		res := g.Post(ctx, g.Client(), recv.URL+"/hook", http.Header{"X-Test": {"yes"}}, []byte(`{}`))
		if !res.OK() || got != "yes" || string(res.Body) != "ok" {
			t.Fatalf("post = %+v (header %q)", res, got)
		}
	})
	t.Run("prefix and host name entries", func(t *testing.T) {
		g, err := webhook.NewGuard([]string{"10.0.0.0/24", "erp.local"})
		if err != nil {
			t.Fatal(err)
		}
		g.LookupIP = func(_ context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("192.168.7.7")}, nil
		}
		for u, want := range map[string]string{
			"http://10.0.0.9/":     "",
			"http://10.0.1.9/":     webhook.ReasonPrivate,
			"http://erp.local/":    "",
			"http://billing.lan/":  webhook.ReasonPrivate,
			"http://127.0.0.1:80/": webhook.ReasonLoopback,
		} {
			if r := refusal(g.CheckURL(ctx, u)); r != want {
				t.Errorf("%s: reason %q, want %q", u, r, want)
			}
		}
	})
	t.Run("bad entries are refused at start", func(t *testing.T) {
		if _, err := webhook.NewGuard([]string{"http://x/"}); err == nil {
			t.Fatal("a URL was accepted as an allow-list entry")
		}
	})
	t.Run("redirect from an allowed server to loopback is refused", func(t *testing.T) {
		g, err := webhook.NewGuard([]string{"127.0.0.1/32"})
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"http://[::1]:9/", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.2:9/"} {
			redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, http.StatusFound)
			}))
			res := g.Post(ctx, g.Client(), redir.URL, nil, []byte(`{}`))
			redir.Close()
			if res.OK() || res.Refusal() == nil {
				t.Fatalf("redirect to %s: %+v", target, res)
			}
			if !strings.Contains(res.Err.Error(), "refused") {
				t.Errorf("error %q does not name the refusal", res.Err)
			}
		}
	})
	t.Run("response size is bounded", func(t *testing.T) {
		big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", 1<<20)))
		}))
		defer big.Close()
		g, _ := webhook.NewGuard([]string{"127.0.0.1"})
		g.MaxResponse = 100
		res := g.Post(ctx, g.Client(), big.URL, nil, nil)
		if !res.OK() || len(res.Body) != 100 {
			t.Fatalf("read %d bytes (%v)", len(res.Body), res.Err)
		}
	})
}
