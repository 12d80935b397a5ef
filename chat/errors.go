package chat

import (
	"errors"
	"fmt"
)

// The kinds of failure the desks (moderate, automate, store's appeals and
// reviews, policy) report. The domain says what went wrong; overlay says
// it in HTTP (overlay/questions.go: 404, 409, 400, 429; anything else 500).
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the target's state refuses the action (Error.State
	// says which state it is in now).
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
	// ErrTooMany: a bound on kept state is reached; decide or wait first.
	ErrTooMany = errors.New("too many")
)

// Error is a desk's failure: Msg is what the client is told, Kind one of
// the kinds above, State the target's state now (for ErrConflict), Err
// the cause, if any (errors.Is finds Kind and Err).
type Error struct {
	Kind  error
	Msg   string
	State string
	Err   error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// CurrentState is the state that refused the action, or "".
func (e *Error) CurrentState() string { return e.State }

// NotFound is an ErrNotFound with its message.
func NotFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflict is an ErrConflict with the target's state now.
func Conflict(state, format string, args ...any) error {
	return &Error{Kind: ErrConflict, Msg: fmt.Sprintf(format, args...), State: state}
}

// Invalid is an ErrInvalid with its message.
func Invalid(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

// Kinded gives err the kind: its message and chain stay.
func Kinded(kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Msg: err.Error(), Err: err}
}
