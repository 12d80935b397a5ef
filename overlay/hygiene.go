package overlay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

// Field hygiene for everything REST and subscribe take, in one place,
// with the same limits as ingest (chat.CheckID): every path segment
// and the stream and user parameters are ids (at most
// chat.MaxIDBytes of UTF-8, no control characters); a body is UTF-8
// JSON whose ids obey the same rule and whose reason is at most
// MaxReasonBytes.

// MaxReasonBytes bounds a moderator's or agent's reason (Twitch allows
// 500 characters for a ban reason; a reason is a note, not a document).
const MaxReasonBytes = 500

// MaxTimeoutSeconds is the longest timeout REST accepts: 14 days, the
// longest the platforms allow.
const MaxTimeoutSeconds = 14 * 24 * 60 * 60

// idParams are the query parameters that name an id or a stream.
var idParams = [...]string{"stream", "user"}

// checkRequest refuses a request whose path or id parameters break the
// rules, before any handler sees it.
func checkRequest(r *http.Request) error {
	for _, seg := range strings.Split(strings.Trim(r.URL.Path, "/"), "/") {
		if err := chat.CheckID("path segment", seg); err != nil {
			return err
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, p := range idParams {
		for _, v := range q[p] {
			if err := chat.CheckID(p, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// bodyIDs are the body fields that name an id or a stream.
var bodyIDs = map[string]bool{"stream": true, "user": true, "id": true, "cluster": true}

// checkBody checks the fields of a JSON object body that hygiene covers.
func checkBody(b []byte) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return nil // not an object: the handler's decoder says what is wrong
	}
	for k, raw := range fields {
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			continue
		}
		switch {
		case bodyIDs[k]:
			if err := chat.CheckID(k, s); err != nil {
				return err
			}
		case k == "reason":
			if err := checkReason(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkReason bounds a free-text reason: MaxReasonBytes, no control
// characters but tab and newline.
func checkReason(s string) error {
	if len(s) > MaxReasonBytes {
		return fmt.Errorf("reason: longer than %d bytes; shorten it", MaxReasonBytes)
	}
	for i, c := range []byte(s) {
		if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f {
			return fmt.Errorf("reason: %w U+%04X at byte %d", chat.ErrControl, c, i)
		}
	}
	return nil
}

// readBody decodes an optional JSON body into v; it answers 400 (413 when
// too large) and returns false when the body is not UTF-8 JSON of the
// right shape or breaks the field rules.
func readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body: over "+strconv.FormatInt(tooBig.Limit, 10)+" bytes (http.max_body_bytes)")
			return false
		}
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return true
	}
	if !utf8.Valid(b) {
		writeError(w, http.StatusBadRequest, "body: invalid UTF-8; send UTF-8 JSON")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error()+"; send a JSON object")
		return false
	}
	if err := checkBody(b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}
