package store_test

import (
	"testing"
	"time"

	"cartera/store"
)

func TestStore_BusinessHours(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	weekdays := [7]bool{false, true, true, true, true, true, false}
	w := store.WorkingHours{Days: weekdays, Start: 9 * 60, End: 17 * 60, Loc: madrid}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, madrid) }

	t.Run("inside hours the same day", func(t *testing.T) {
		// Monday 2 March 2026, 10:00 + 4h = 14:00.
		if got, want := w.AddBusiness(at(2026, 3, 2, 10, 0), 4*time.Hour), at(2026, 3, 2, 14, 0); !got.Equal(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("rolls over to the next day", func(t *testing.T) {
		// Monday 15:00 + 4h: 2h on Monday, 2h on Tuesday → Tuesday 11:00.
		if got, want := w.AddBusiness(at(2026, 3, 2, 15, 0), 4*time.Hour), at(2026, 3, 3, 11, 0); !got.Equal(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("skips the weekend", func(t *testing.T) {
		// Friday 6 March 16:00 + 2h → Monday 9 March 10:00.
		if got, want := w.AddBusiness(at(2026, 3, 6, 16, 0), 2*time.Hour), at(2026, 3, 9, 10, 0); !got.Equal(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("start before opening and on a day off", func(t *testing.T) {
		if got, want := w.AddBusiness(at(2026, 3, 2, 6, 30), time.Hour), at(2026, 3, 2, 10, 0); !got.Equal(want) {
			t.Fatalf("early: got %v, want %v", got, want)
		}
		if got, want := w.AddBusiness(at(2026, 3, 2, 20, 0), time.Hour), at(2026, 3, 3, 10, 0); !got.Equal(want) {
			t.Fatalf("late: got %v, want %v", got, want)
		}
		if got, want := w.AddBusiness(at(2026, 3, 7, 12, 0), 30*time.Minute), at(2026, 3, 9, 9, 30); !got.Equal(want) {
			t.Fatalf("saturday: got %v, want %v", got, want)
		}
	})
	t.Run("a whole working day ends at closing", func(t *testing.T) {
		if got, want := w.AddBusiness(at(2026, 3, 2, 9, 0), 8*time.Hour), at(2026, 3, 2, 17, 0); !got.Equal(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("DST change", func(t *testing.T) {
		// Spain moves to summer time on Sunday 29 March 2026 (02:00 → 03:00).
		// Friday 27 March 16:00 (UTC+1) + 3h → Monday 30 March 11:00 (UTC+2):
		// the lost hour is on a Sunday night and costs no business time.
		got := w.AddBusiness(at(2026, 3, 27, 16, 0), 3*time.Hour)
		if want := at(2026, 3, 30, 11, 0); !got.Equal(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		if _, off := got.Zone(); off != 2*3600 {
			t.Fatalf("offset %d, want summer time", off)
		}
		// A window around midnight on the change day: a 24-hour week on
		// Sundays only loses the missing hour.
		night := store.WorkingHours{Days: [7]bool{true}, Start: 0, End: 24 * 60, Loc: madrid}
		if got := night.BusinessBetween(at(2026, 3, 29, 0, 0), at(2026, 3, 30, 0, 0)); got != 23*time.Hour {
			t.Fatalf("the short Sunday has %v of business time, want 23h", got)
		}
	})
	t.Run("elapsed business time", func(t *testing.T) {
		cases := []struct {
			from, to time.Time
			want     time.Duration
		}{
			{at(2026, 3, 2, 10, 0), at(2026, 3, 2, 12, 30), 150 * time.Minute},
			{at(2026, 3, 6, 16, 0), at(2026, 3, 9, 10, 0), 2 * time.Hour},   // over a weekend
			{at(2026, 3, 2, 18, 0), at(2026, 3, 3, 8, 0), 0},                // a night
			{at(2026, 3, 2, 8, 0), at(2026, 3, 4, 20, 0), 24 * time.Hour},   // three full days
			{at(2026, 3, 4, 10, 0), at(2026, 3, 2, 10, 0), 0},               // backwards
			{at(2026, 3, 27, 16, 0), at(2026, 3, 30, 11, 0), 3 * time.Hour}, // DST weekend
		}
		for _, c := range cases {
			if got := w.BusinessBetween(c.from, c.to); got != c.want {
				t.Errorf("%v → %v: got %v, want %v", c.from, c.to, got, c.want)
			}
			if c.want > 0 {
				if back := w.AddBusiness(c.from, c.want); w.BusinessBetween(c.from, back) != c.want {
					t.Errorf("AddBusiness and BusinessBetween disagree from %v", c.from)
				}
			}
		}
	})
	t.Run("no working days gives no due time", func(t *testing.T) {
		none := store.WorkingHours{Start: 540, End: 1020, Loc: madrid}
		if got := none.AddBusiness(at(2026, 3, 2, 10, 0), time.Hour); !got.IsZero() {
			t.Fatalf("got %v, want zero", got)
		}
	})
}
