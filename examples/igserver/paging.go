package igserver

import (
	"encoding/base64"
)

// Page sizes of list edges.
const (
	defaultPageSize = 25
	maxPageSize     = 100
)

// pageRequest is the limit, after and before parameters of a list edge.
type pageRequest struct {
	limit  int
	after  string
	before string
}

// page reads limit, after and before. A limit above maxPageSize is lowered
// to it.
func (c *paramChecker) page() pageRequest {
	p := pageRequest{limit: defaultPageSize}
	if n, ok := c.integer("limit", 1); ok {
		p.limit = int(min(n, maxPageSize))
	}
	p.after, _ = c.value("after")
	p.before, _ = c.value("before")
	return p
}

// paging is the paging object of a list reply.
type paging struct {
	Cursors pageCursors `json:"cursors"`
}

type pageCursors struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

// listReply is the reply of a list edge.
type listReply struct {
	Data   []map[string]any `json:"data"`
	Paging *paging          `json:"paging,omitempty"`
}

// paginate returns the window of ids that p selects and its paging object,
// which is nil for an empty window. A cursor is the id of an item, encoded.
func paginate(ids []string, p pageRequest) ([]string, *paging, *graphError) {
	start, end := 0, len(ids)
	switch {
	case p.after != "":
		i := cursorIndex(ids, p.after)
		if i < 0 {
			return nil, nil, invalidParam("Invalid cursor in param after")
		}
		start = i + 1
	case p.before != "":
		i := cursorIndex(ids, p.before)
		if i < 0 {
			return nil, nil, invalidParam("Invalid cursor in param before")
		}
		end = i
		start = max(0, end-p.limit)
	}
	end = min(end, start+p.limit)

	window := ids[start:end]
	if len(window) == 0 {
		return window, nil, nil
	}
	return window, &paging{Cursors: pageCursors{
		Before: encodeCursor(window[0]),
		After:  encodeCursor(window[len(window)-1]),
	}}, nil
}

func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("cursor:" + id))
}

func cursorIndex(ids []string, cursor string) int {
	for i, id := range ids {
		if encodeCursor(id) == cursor {
			return i
		}
	}
	return -1
}
