package store

import (
	"errors"
	"fmt"
)

// Code classifies a store error so that every front end (HTML, API, CLI) can
// map it to one status without looking at error text.
type Code string

// The error codes the store returns; ui maps each to exactly one HTTP status.
const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeForbidden    Code = "forbidden"
	CodeUnauthorized Code = "unauthorized"
	CodeTooMany      Code = "too_many"
	CodeInternal     Code = "internal"
)

// Error is the only error type store returns to callers, so that messages are
// translated by key and internal details never reach a user.
type Error struct {
	Code Code
	// Key is an i18n message key describing the error for a person.
	Key string
	// Fields maps a field name to the i18n message key of its problem.
	Fields map[string]string
	// Err is the underlying cause, logged but never shown.
	Err error
}

// Error describes the error for logs.
func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Key
	if len(e.Fields) > 0 {
		s += fmt.Sprintf(" %v", e.Fields)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of err, CodeInternal for foreign errors and ""
// for nil, so callers can switch on it without type assertions.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	return CodeInternal
}

// AsError returns err as a *Error, wrapping foreign errors as internal ones.
func AsError(err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Code: CodeInternal, Key: "error.internal", Err: err}
}

func errInvalid(fields map[string]string) *Error {
	return &Error{Code: CodeInvalid, Key: "error.invalid", Fields: fields}
}

func errNotFound() *Error { return &Error{Code: CodeNotFound, Key: "error.not_found"} }

func errForbidden() *Error { return &Error{Code: CodeForbidden, Key: "error.forbidden"} }

func errConflict(key string, fields map[string]string) *Error {
	return &Error{Code: CodeConflict, Key: key, Fields: fields}
}

func errInternal(err error) *Error {
	return &Error{Code: CodeInternal, Key: "error.internal", Err: err}
}

// fieldErrors collects per-field validation problems; nil when there are none.
type fieldErrors map[string]string

func (f fieldErrors) add(field, key string) {
	if _, ok := f[field]; !ok {
		f[field] = key
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return errInvalid(f)
}
