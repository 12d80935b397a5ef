package overlay

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestStatusOfKinds: each kind of domain error gets its status, through
// wrapping too; anything else is a 500, and a conflict names its state.
func TestStatusOfKinds(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{chat.NotFound("ticket %s: none", "t-1"), 404},
		{chat.Conflict("claimed", "ticket is claimed"), 409},
		{chat.Invalid("action: want pin"), 400},
		{chat.Kinded(chat.ErrTooMany, errors.New("100000 appeals are open")), 429},
		{fmt.Errorf("appeal: %w", chat.NotFound("appeal not found")), 404},
		{errors.New("disk full"), 500},
	} {
		if got := statusOf(c.err); got != c.want {
			t.Errorf("statusOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	w := httptest.NewRecorder()
	answerError(w, chat.Conflict("resolved", "ticket t-1 is resolved"))
	if w.Code != 409 || !strings.Contains(w.Body.String(), `"state":"resolved"`) {
		t.Fatalf("conflict answer: %d %s", w.Code, w.Body)
	}
}
