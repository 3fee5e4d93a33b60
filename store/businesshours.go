package store

import "time"

// WorkingHours are the company's business hours: the working days of the
// week and one daily window, in the company's time zone. SLA targets are
// counted in them, so a case opened on Friday evening is not late on
// Saturday morning.
type WorkingHours struct {
	// Days[time.Weekday] is true for a working day.
	Days [7]bool
	// Start and End are the window in minutes after local midnight
	// (540 = 09:00); Start < End.
	Start, End int
	// Loc is the company's time zone (UTC when nil).
	Loc *time.Location
}

// maxBusinessDays bounds the walk over the calendar, so a target of years
// or a week without working days cannot loop for ever.
const maxBusinessDays = 3660

// valid reports whether the hours allow any work at all.
func (w WorkingHours) valid() bool {
	if w.Start < 0 || w.End > 24*60 || w.Start >= w.End {
		return false
	}
	for _, d := range w.Days {
		if d {
			return true
		}
	}
	return false
}

func (w WorkingHours) loc() *time.Location {
	if w.Loc == nil {
		return time.UTC
	}
	return w.Loc
}

// window is the working window of the local day that contains t; ok is
// false on a day off. time.Date normalises the clock times of a DST change,
// so a window always has its real length on that day.
func (w WorkingHours) window(t time.Time) (from, to time.Time, ok bool) {
	y, m, d := t.Date()
	if !w.Days[t.Weekday()] {
		return time.Time{}, time.Time{}, false
	}
	loc := w.loc()
	return time.Date(y, m, d, w.Start/60, w.Start%60, 0, 0, loc), time.Date(y, m, d, w.End/60, w.End%60, 0, 0, loc), true
}

// nextDay is local midnight of the day after the one containing t.
func (w WorkingHours) nextDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, w.loc())
}

// AddBusiness returns the moment d of business time after t: time outside
// the working window does not count, and a start outside it counts from
// the next opening. It returns the zero time when the hours allow no work.
func (w WorkingHours) AddBusiness(t time.Time, d time.Duration) time.Time {
	if !w.valid() || t.IsZero() {
		return time.Time{}
	}
	cur := t.In(w.loc())
	left := max(d, 0)
	for range maxBusinessDays {
		if from, to, ok := w.window(cur); ok {
			start := cur
			if start.Before(from) {
				start = from
			}
			if start.Before(to) {
				if avail := to.Sub(start); left <= avail {
					return start.Add(left)
				} else {
					left -= avail
				}
			}
		}
		cur = w.nextDay(cur)
	}
	return time.Time{}
}

// BusinessBetween returns the business time that elapses from one moment
// to a later one (zero when to is not after from).
func (w WorkingHours) BusinessBetween(from, to time.Time) time.Duration {
	if !w.valid() || !to.After(from) {
		return 0
	}
	cur, end := from.In(w.loc()), to.In(w.loc())
	var sum time.Duration
	for range maxBusinessDays {
		if !cur.Before(end) {
			break
		}
		if open, close, ok := w.window(cur); ok {
			a, b := cur, end
			if a.Before(open) {
				a = open
			}
			if b.After(close) {
				b = close
			}
			if b.After(a) {
				sum += b.Sub(a)
			}
		}
		cur = w.nextDay(cur)
	}
	return sum
}
