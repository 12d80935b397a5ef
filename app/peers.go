package app

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/livemod/livemod/cluster"
	"github.com/livemod/livemod/store"
)

// hdrFrom marks a REST call one node hands to another, with the sender's
// id: the receiver answers it itself, never hands it on (no loops).
const hdrFrom = "X-Livemod-From"

// maxPeerAnswer bounds an answer read from a peer (the biggest list pages
// and exports fit).
const maxPeerAnswer = 32 << 20

// handler hands REST calls about a stream another node decides to that
// node, and merges the answers of calls that span every node (the audit
// log, dead webhook deliveries, a user's export and erasure). Pages,
// websockets, metrics and calls handed over by a peer are this node's.
func (c *clusterPart) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(hdrFrom) != "" || !strings.HasPrefix(r.URL.Path, "/v1/") ||
			strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
			r.URL.Path == "/v1/ingest" || r.URL.Path == "/v1/messages" { // ways in: the pipeline forwards per stream
			next.ServeHTTP(w, r)
			return
		}
		path := r.URL.Path
		switch {
		case r.Method == http.MethodGet && path == "/v1/audit" && r.URL.Query().Get("format") == "":
			c.mergeAudit(w, r, next)
			return
		case r.Method == http.MethodGet && path == "/v1/webhooks/dead":
			c.mergeList(w, r, next, "dead")
			return
		case r.Method == http.MethodGet && r.URL.Query().Get("stream") == "" && listKey[path] != "":
			// A list of every stream: each node holds its own streams'.
			c.mergeList(w, r, next, listKey[path])
			return
		case strings.HasPrefix(path, "/v1/users/") && (r.Method == http.MethodDelete || strings.HasSuffix(path, "/export")):
			c.everyNode(w, r, next)
			return
		}
		body, ok := readBody(r, c.a.Cfg.HTTP.WithDefaults().MaxBodyBytes)
		if !ok {
			next.ServeHTTP(w, r) // over the limit: overlay answers 413
			return
		}
		s := requestStream(r, body)
		if s == "" {
			s = c.streamOfID(r)
		}
		if s != "" {
			if p, self, known := c.node.OwnerOf(s); known && !self && p.Addr != "" {
				c.forward(w, r, body, p)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		// A call by id (a ticket, a draft, a message, an appeal): answered
		// here unless this node does not know the id, then by the first
		// peer that does.
		rec := newRecorder()
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusNotFound {
			for _, p := range c.node.Peers() {
				if p.ID == c.node.ID() || p.Addr == "" {
					continue
				}
				resp, err := c.send(r, body, p)
				if err != nil {
					continue
				}
				if resp.status != http.StatusNotFound {
					resp.writeTo(w)
					return
				}
			}
		}
		rec.writeTo(w)
	})
}

// streamOfID is the stream of the ticket or draft a call by id acts on
// (/v1/handoffs/{id}/…, /v1/replies/drafts/{id}/…), so that the call goes
// to the stream's owner even when this node keeps an older copy (it owned
// the stream before): as this node knows it, else as Redis's index of
// mirrored tickets does. "" when it is neither or unknown.
func (c *clusterPart) streamOfID(r *http.Request) string {
	if r.Method == http.MethodGet {
		return ""
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/handoffs/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		if t, ok := c.a.Auto.state.Get(id); ok {
			return t.Stream
		}
		if s, ok, err := c.node.StreamOf(r.Context(), bucketTickets, id); err == nil && ok {
			return s
		}
		return ""
	}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/replies/drafts/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		if d, ok := c.a.Auto.stage.Draft(id); ok {
			return d.Stream
		}
	}
	return ""
}

// listKey names the array of the list answers that span every stream
// when no ?stream= is given.
var listKey = map[string]string{
	"/v1/handoffs":       "handoffs",
	"/v1/replies/drafts": "drafts",
	"/v1/appeals":        "appeals",
	"/v1/reviews":        "reviews",
}

// readBody reads r's body (at most max bytes) and puts it back for the
// next handler; false when it is longer.
func readBody(r *http.Request, max int64) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil || int64(len(b)) > max {
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, true
}

// requestStream is the stream a REST call names: in its path
// (/v1/streams/{id}/…), its query (?stream=) or its JSON body ("stream").
func requestStream(r *http.Request, body []byte) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1/streams/"); ok {
		if id, _, _ := strings.Cut(rest, "/"); id != "" {
			if s, err := url.PathUnescape(id); err == nil {
				return s
			}
		}
	}
	if s := r.URL.Query().Get("stream"); s != "" {
		return s
	}
	if len(body) > 0 && body[0] == '{' {
		var v struct {
			Stream string `json:"stream"`
		}
		if json.Unmarshal(body, &v) == nil {
			return v.Stream
		}
	}
	return ""
}

// peerAnswer is an answer read whole, from a peer or from this node.
type peerAnswer struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func newRecorder() *peerAnswer { return &peerAnswer{status: http.StatusOK, header: http.Header{}} }

func (p *peerAnswer) Header() http.Header         { return p.header }
func (p *peerAnswer) Write(b []byte) (int, error) { return p.body.Write(b) }
func (p *peerAnswer) WriteHeader(status int)      { p.status = status }

func (p *peerAnswer) writeTo(w http.ResponseWriter) {
	for k, v := range p.header {
		if k == "Content-Length" {
			continue
		}
		w.Header()[k] = v
	}
	w.WriteHeader(p.status)
	w.Write(p.body.Bytes())
}

// send makes r (with body) again at peer p, as this node, with the
// caller's token, and reads the answer.
func (c *clusterPart) send(r *http.Request, body []byte, p cluster.Peer) (*peerAnswer, error) {
	u := strings.TrimSuffix(p.Addr, "/") + r.URL.RequestURI()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept", "Cookie", "Idempotency-Key"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(hdrFrom, c.node.ID())
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", p.ID, err)
	}
	defer resp.Body.Close()
	a := &peerAnswer{status: resp.StatusCode, header: resp.Header.Clone()}
	if _, err := io.Copy(&a.body, io.LimitReader(resp.Body, maxPeerAnswer)); err != nil {
		return nil, fmt.Errorf("node %s: %w", p.ID, err)
	}
	return a, nil
}

// forward hands r to p, the owner of the stream it names, and passes the
// answer on; 503 when p cannot be reached (its lease will lapse, and
// another node take the stream, within cluster.lease_ttl).
func (c *clusterPart) forward(w http.ResponseWriter, r *http.Request, body []byte, p cluster.Peer) {
	a, err := c.send(r, body, p)
	if err != nil {
		w.Header().Set("Retry-After", "2")
		writeJSONError(w, http.StatusServiceUnavailable, fmt.Sprintf("the node deciding this stream cannot be reached (%v); retry: another node takes the stream over within %v", err, c.a.Cfg.Cluster.LeaseTTL))
		return
	}
	a.writeTo(w)
}

// others are the live peers but this node.
func (c *clusterPart) others() []cluster.Peer {
	var out []cluster.Peer
	for _, p := range c.node.Peers() {
		if p.ID != c.node.ID() && p.Addr != "" {
			out = append(out, p)
		}
	}
	return out
}

// mergeAudit answers GET /v1/audit with every node's entries (each names
// its node), newest first, cut to the limit.
func (c *clusterPart) mergeAudit(w http.ResponseWriter, r *http.Request, next http.Handler) {
	local := newRecorder()
	next.ServeHTTP(local, r)
	if local.status != http.StatusOK {
		local.writeTo(w)
		return
	}
	type page struct {
		Entries []store.AuditEntry `json:"entries"`
		Limit   int                `json:"limit"`
		Next    uint64             `json:"next,omitempty"`
	}
	var all page
	if err := json.Unmarshal(local.body.Bytes(), &all); err != nil {
		local.writeTo(w)
		return
	}
	var missing []string
	for _, p := range c.others() {
		a, err := c.send(r, nil, p)
		var pg page
		if err != nil || a.status != http.StatusOK || json.Unmarshal(a.body.Bytes(), &pg) != nil {
			missing = append(missing, p.ID)
			continue
		}
		all.Entries = append(all.Entries, pg.Entries...)
	}
	slices.SortStableFunc(all.Entries, func(x, y store.AuditEntry) int {
		if c := cmp.Compare(y.TS, x.TS); c != 0 {
			return c
		}
		return strings.Compare(x.Node, y.Node)
	})
	if all.Limit > 0 && len(all.Entries) > all.Limit {
		all.Entries = all.Entries[:all.Limit]
	}
	if len(missing) > 0 {
		w.Header().Set("X-Livemod-Missing-Nodes", strings.Join(missing, ","))
	}
	writeJSON(w, all)
}

// mergeList answers a GET whose answer is {"<key>":[…]} with every
// node's items.
func (c *clusterPart) mergeList(w http.ResponseWriter, r *http.Request, next http.Handler, key string) {
	local := newRecorder()
	next.ServeHTTP(local, r)
	if local.status != http.StatusOK {
		local.writeTo(w)
		return
	}
	var all map[string]json.RawMessage
	var items []json.RawMessage
	if json.Unmarshal(local.body.Bytes(), &all) != nil || json.Unmarshal(all[key], &items) != nil {
		local.writeTo(w)
		return
	}
	from := make([]string, len(items)) // the node each item came from
	for i := range from {
		from[i] = c.node.ID()
	}
	var total int
	json.Unmarshal(all["total"], &total)
	var missing []string
	merged := false
	for _, p := range c.others() {
		a, err := c.send(r, nil, p)
		var pg map[string]json.RawMessage
		var more []json.RawMessage
		if err != nil || a.status != http.StatusOK || json.Unmarshal(a.body.Bytes(), &pg) != nil || json.Unmarshal(pg[key], &more) != nil {
			missing = append(missing, p.ID)
			continue
		}
		var n int
		json.Unmarshal(pg["total"], &n)
		total += n
		if len(more) > 0 {
			merged = true
			items = append(items, more...)
			for range more {
				from = append(from, p.ID)
			}
		}
	}
	if key == "handoffs" || key == "drafts" { // a stream's, kept by its owner
		var dropped int
		items, dropped = c.ownersCopies(items, from)
		total -= dropped
	}
	if merged {
		// Oldest first, as each node lists them; a page's cursor is one
		// node's, so a merged page has none: ask per stream to page.
		slices.SortStableFunc(items, func(x, y json.RawMessage) int { return cmp.Compare(createdOf(x), createdOf(y)) })
		if lim, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && lim > 0 && len(items) > lim {
			items = items[:lim]
		}
		delete(all, "next")
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	all[key], _ = json.Marshal(items)
	if _, ok := all["total"]; ok {
		all["total"], _ = json.Marshal(total)
	}
	if len(missing) > 0 {
		w.Header().Set("X-Livemod-Missing-Nodes", strings.Join(missing, ","))
	}
	writeJSON(w, all)
}

// ownersCopies keeps, of items listed by several nodes, those of the node
// that owns each item's stream: a node that owned a stream before keeps
// older copies of its tickets and drafts. Where no node owns the stream
// now, one copy of each id is kept. It returns how many it dropped.
func (c *clusterPart) ownersCopies(items []json.RawMessage, from []string) ([]json.RawMessage, int) {
	owners := map[string]string{} // stream → owning node, "" when none
	seen := map[string]bool{}
	out, dropped := items[:0], 0
	for i, it := range items {
		var k struct{ ID, Stream string }
		json.Unmarshal(it, &k)
		if k.Stream != "" {
			o, ok := owners[k.Stream]
			if !ok {
				if p, _, known := c.node.OwnerOf(k.Stream); known {
					o = p.ID
				}
				owners[k.Stream] = o
			}
			if o != "" && from[i] != o {
				dropped++
				continue
			}
		}
		if k.ID != "" && seen[k.ID] {
			dropped++
			continue
		}
		seen[k.ID] = true
		out = append(out, it)
	}
	return out, dropped
}

// createdOf is an item's "created" (or "ts"), Unix ms, for ordering a
// merged list.
func createdOf(item json.RawMessage) int64 {
	var v struct {
		Created int64 `json:"created"`
		TS      int64 `json:"ts"`
	}
	json.Unmarshal(item, &v)
	if v.Created != 0 {
		return v.Created
	}
	return v.TS
}

// everyNode runs a user's export or erasure on every node: the answer is
// this node's, with the other nodes' under "nodes"; an erasure that some
// node could not run is a 503 naming them (retry: erasure is idempotent).
func (c *clusterPart) everyNode(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body, _ := readBody(r, c.a.Cfg.HTTP.WithDefaults().MaxBodyBytes)
	local := newRecorder()
	next.ServeHTTP(local, r)
	if local.status/100 != 2 {
		local.writeTo(w)
		return
	}
	var mine map[string]json.RawMessage
	if json.Unmarshal(local.body.Bytes(), &mine) != nil {
		local.writeTo(w)
		return
	}
	nodes := map[string]json.RawMessage{}
	var failed []string
	for _, p := range c.others() {
		a, err := c.send(r, body, p)
		if err != nil || a.status/100 != 2 {
			failed = append(failed, p.ID)
			continue
		}
		nodes[p.ID] = json.RawMessage(bytes.TrimSpace(a.body.Bytes()))
	}
	if len(nodes) > 0 {
		v, _ := json.Marshal(nodes)
		mine["nodes"] = v
	}
	if len(failed) > 0 && r.Method == http.MethodDelete {
		w.Header().Set("Retry-After", "2")
		writeJSONError(w, http.StatusServiceUnavailable, "erased on node "+c.node.ID()+" but not on "+strings.Join(failed, ", ")+"; retry the request (erasure is idempotent)")
		return
	}
	if len(failed) > 0 {
		w.Header().Set("X-Livemod-Missing-Nodes", strings.Join(failed, ","))
	}
	writeJSON(w, mine)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
