package main

import (
	"strings"
	"testing"
)

func TestConfig_Webhooks(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	t.Run("allow list from the environment, comma-separated", func(t *testing.T) {
		cfg, err := loadConfig("", env(map[string]string{"CARTERA_WEBHOOKS_ALLOW": "10.0.0.0/24, erp.local", "CARTERA_API_RATE_PER_MINUTE": "60"}), nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(cfg.Webhooks.Allow, "|") != "10.0.0.0/24|erp.local" || cfg.API.RatePerMinute != 60 {
			t.Fatalf("%+v %+v", cfg.Webhooks, cfg.API)
		}
	})
	t.Run("a bad entry is refused at start, naming the key", func(t *testing.T) {
		_, err := loadConfig("", env(map[string]string{"CARTERA_WEBHOOKS_ALLOW": "http://erp/"}), nil)
		if err == nil || !strings.Contains(err.Error(), "webhooks.allow") {
			t.Fatalf("err = %v", err)
		}
		_, err = loadConfig("", env(map[string]string{"CARTERA_API_RATE_PER_MINUTE": "-1"}), nil)
		if err == nil || !strings.Contains(err.Error(), "api.rate_per_minute") {
			t.Fatalf("err = %v", err)
		}
	})
}
