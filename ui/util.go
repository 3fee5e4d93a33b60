package ui

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
)

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// pathID reads a numeric route variable; routes only match digits.
func pathID(r *http.Request, name string) int64 {
	v, _ := strconv.ParseInt(mux.Vars(r)[name], 10, 64)
	return v
}

// parseInt64 reads an optional numeric parameter; anything else is 0.
func parseInt64(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
