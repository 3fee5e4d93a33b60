// Package automation runs the firm's workflow rules, reminders and digests
// on time: an in-process scheduler over the store's persisted due-times.
package automation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"cartera/store"
)

// Job is periodic work the scheduler runs on each pass after the rules
// (task reminders, daily digests); it must be idempotent, since a pass may
// run at any moment.
type Job struct {
	Name string
	Run  func(ctx context.Context, now time.Time) (int, error)
}

// Scheduler runs due workflow jobs. A cron entry ticks every Tick as a
// safety net; between ticks it sleeps exactly until the next due-time and
// wakes at once when a write schedules a job due now, so "90 seconds
// after" means 90 seconds, not "at the next minute".
type Scheduler struct {
	st *store.Store
	// Tick is the cron interval (default one minute, at least a second).
	Tick time.Duration
	// Label names options in e-mail templates (the UI's catalogs).
	Label store.Labeler
	// Jobs run on every pass after the rules.
	Jobs []Job
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	kick chan struct{}
	mu   sync.Mutex // one pass at a time
}

// New returns a scheduler over the store's workflow jobs.
func New(st *store.Store) *Scheduler {
	return &Scheduler{st: st, kick: make(chan struct{}, 1)}
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Kick asks for a pass as soon as possible; it never blocks.
func (s *Scheduler) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run makes a first pass at once (firing, once, what fell due while
// Cartera was stopped) and then keeps passing until ctx is cancelled.
func (s *Scheduler) Run(ctx context.Context) {
	tick := s.Tick
	if tick < time.Second {
		tick = time.Minute
	}
	c := cron.New()
	c.Schedule(cron.Every(tick), cron.FuncJob(s.Kick))
	c.Start()
	defer func() { <-c.Stop().Done() }()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.kick:
		case <-s.st.Wake():
		}
		s.Pass(ctx)
		// Sleep until the next due-time, but never past the next tick.
		wait := tick
		if next, ok, err := s.st.NextWorkflowDue(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(s.now()), 10*time.Millisecond))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Pass runs every workflow job due now and then the periodic jobs; it
// returns how many rule runs it made. Errors are logged, never fatal.
func (s *Scheduler) Pass(ctx context.Context) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n, err := s.st.RunDueWorkflows(ctx, now, s.Label)
	if err != nil && ctx.Err() == nil {
		s.log().Error("running workflow rules", "err", err)
	}
	for _, j := range s.Jobs {
		if _, err := j.Run(ctx, now); err != nil && ctx.Err() == nil {
			s.log().Error("running a scheduled job", "job", j.Name, "err", err)
		}
	}
	return n
}
