// Package auth holds who may do what at livemod's edge, as plain values
// that config parses and overlay enforces: roles (Role, Roles), tokens
// with their role and streams (Token, ParseToken, Token.Validate), and
// the defaults that keep a server safe (IsLoopback: no tokens only on
// loopback; DefaultMaxBodyBytes). It has no state; everything in it is
// goroutine-safe. Checking a request's token is overlay's (overlay.Auth).
package auth
