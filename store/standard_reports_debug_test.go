package store

// CARTERA_REPORT_SQL=1 prints every standard-report query with its time,
// to read plans while tuning the reports on a large dataset.

import (
	"fmt"
	"os"
	"time"
)

func init() {
	if os.Getenv("CARTERA_REPORT_SQL") != "" {
		debugSQL = func(q string, args []any, d time.Duration) {
			fmt.Fprintf(os.Stderr, "%8.1f ms  %s  %v\n", float64(d.Microseconds())/1000, q, args)
		}
	}
}
