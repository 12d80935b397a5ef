package connect

import "context"

// readEventSub reads chat over EventSub.
func (t *Twitch) readEventSub(ctx context.Context) {
	<-ctx.Done()
}
