package store

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// coerce converts a raw input value (a form string, or a JSON string,
// number, bool or null) to the Go type of the field's kind; it returns the
// i18n key of the problem when the value does not fit.
//
// Go types by kind: text kinds, select and date → string; link → int64
// (0 = none); number → int64; money → float64; datetime → time.Time;
// checkbox → bool.
func coerce(f Field, raw any) (any, string) {
	switch f.Kind {
	case KText, KPhone:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.type_text"
		}
		v, k := cleanText(s, false, maxOr(f.Max, 500))
		return v, k
	case KLongText:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.type_text"
		}
		return cleanLongText(s, maxOr(f.Max, 50000))
	case KEmail:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.type_text"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", ""
		}
		v, k := normEmail(s)
		return v, k
	case KURL:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.type_text"
		}
		s, k := cleanText(s, false, maxOr(f.Max, 300))
		if k != "" || s == "" {
			return s, k
		}
		if !strings.Contains(s, "://") {
			s = "https://" + s
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, "error.url"
		}
		return s, ""
	case KSelect:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.type_option"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", ""
		}
		if _, ok := f.option(s); !ok {
			return s, "error.option"
		}
		return s, ""
	case KDate:
		s, ok := asString(raw)
		if !ok {
			return nil, "error.date"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", ""
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return s, "error.date"
		}
		return s, ""
	case KDateTime:
		switch v := raw.(type) {
		case nil:
			return time.Time{}, ""
		case time.Time:
			return v.UTC(), ""
		case string:
			v = strings.TrimSpace(v)
			if v == "" {
				return time.Time{}, ""
			}
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00"} {
				if t, err := time.Parse(layout, v); err == nil {
					return t.UTC(), ""
				}
			}
			return nil, "error.datetime"
		}
		return nil, "error.datetime"
	case KRef:
		switch v := raw.(type) {
		case nil:
			return int64(0), ""
		case int64:
			return v, ""
		case float64:
			if v != math.Trunc(v) || v < 0 {
				return nil, "error.unknown_record"
			}
			return int64(v), ""
		case string:
			v = strings.TrimSpace(v)
			if v == "" || v == "0" {
				return int64(0), ""
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, "error.unknown_record"
			}
			return n, ""
		}
		return nil, "error.unknown_record"
	case KNumber:
		var n float64
		switch v := raw.(type) {
		case nil:
			return int64(0), ""
		case float64:
			n = v
		case int64:
			n = float64(v)
		case string:
			v = strings.TrimSpace(v)
			if v == "" {
				return int64(0), ""
			}
			p, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
			if err != nil {
				return nil, "error.number"
			}
			n = p
		default:
			return nil, "error.number"
		}
		if n != math.Trunc(n) || math.IsNaN(n) {
			return nil, "error.integer"
		}
		if (f.Min != 0 || f.Top != 0) && (int64(n) < f.Min || int64(n) > f.Top) {
			return nil, "error.range"
		}
		return int64(n), ""
	case KMoney:
		var n float64
		switch v := raw.(type) {
		case nil:
			return float64(0), ""
		case float64:
			n = v
		case int64:
			n = float64(v)
		case string:
			p, ok := parseDecimal(v)
			if !ok {
				return nil, "error.number"
			}
			n = p
		default:
			return nil, "error.number"
		}
		if math.IsNaN(n) || math.IsInf(n, 0) || n < float64(f.Min) || (f.Top != 0 && n > float64(f.Top)) {
			return nil, "error.range"
		}
		return math.Round(n*100) / 100, ""
	case KBool:
		switch v := raw.(type) {
		case nil:
			return false, ""
		case bool:
			return v, ""
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "", "0", "false", "off", "no":
				return false, ""
			case "1", "true", "on", "yes", "sí", "si":
				return true, ""
			}
		}
		return nil, "error.checkbox"
	}
	return nil, "error.invalid"
}

// parseDecimal reads "1234.5", "1.234,50" or "1234,5" (Spanish/Catalan
// decimal comma) as a number.
func parseDecimal(s string) (float64, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, " ", ""))
	if s == "" {
		return 0, true
	}
	if strings.Contains(s, ",") {
		if strings.Contains(s, ".") && strings.LastIndex(s, ".") > strings.LastIndex(s, ",") {
			s = strings.ReplaceAll(s, ",", "") // 1,234.50
		} else {
			s = strings.ReplaceAll(s, ".", "")
			s = strings.ReplaceAll(s, ",", ".") // 1.234,50
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil
}

func asString(raw any) (string, bool) {
	switch v := raw.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func maxOr(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// zeroOf is the empty value of a kind.
func zeroOf(k Kind) any {
	switch k {
	case KRef, KNumber:
		return int64(0)
	case KMoney:
		return float64(0)
	case KDateTime:
		return time.Time{}
	case KBool:
		return false
	}
	return ""
}

// toDB converts a Go value to its stored form.
func toDB(f Field, v any) any {
	switch f.Kind {
	case KRef:
		if n, _ := v.(int64); n != 0 {
			return n
		}
		return nil
	case KMoney:
		n, _ := v.(float64)
		return int64(math.Round(n * 100))
	case KDateTime:
		t, _ := v.(time.Time)
		return ms(t)
	}
	return v
}

// display renders a value as text for field history.
func display(f Field, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case int64:
		if x == 0 && f.Kind == KRef {
			return ""
		}
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

// equalValues compares two values of the same kind.
func equalValues(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, _ := b.(time.Time)
		return ta.Equal(tb)
	}
	return a == b
}
