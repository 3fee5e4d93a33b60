package main

import (
	"slices"
	"sort"
	"time"
)

// agg collects the latencies and outcomes of one kind of request.
type agg struct {
	lats     []time.Duration
	errs     int
	statuses map[int]int // HTTP status → count (0 = transport error)
}

func newAgg() *agg { return &agg{statuses: map[int]int{}} }

func (a *agg) add(d time.Duration, status int, ok bool) {
	a.lats = append(a.lats, d)
	a.statuses[status]++
	if !ok {
		a.errs++
	}
}

func (a *agg) merge(b *agg) {
	a.lats = append(a.lats, b.lats...)
	a.errs += b.errs
	for k, v := range b.statuses {
		a.statuses[k] += v
	}
}

// summary is what the report shows of an agg.
type summary struct {
	N             int
	Errs          int
	RPS           float64
	P50, P95, P99 time.Duration
	Max           time.Duration
	Statuses      map[int]int
}

func (a *agg) summary(wall time.Duration) summary {
	s := summary{N: len(a.lats), Errs: a.errs, Statuses: a.statuses}
	if s.N == 0 {
		return s
	}
	l := slices.Clone(a.lats)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	s.P50, s.P95, s.P99, s.Max = pct(l, 50), pct(l, 95), pct(l, 99), l[len(l)-1]
	if wall > 0 {
		s.RPS = float64(s.N) / wall.Seconds()
	}
	return s
}

// pct is the nearest-rank percentile of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}
