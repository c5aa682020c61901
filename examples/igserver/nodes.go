package igserver

import (
	"strconv"
	"time"
)

// igTimeLayout is the timestamp format of Graph API replies.
const igTimeLayout = "2006-01-02T15:04:05-0700"

// notReadyContainerID is a media container id whose upload never finishes:
// its status is IN_PROGRESS and publishing it fails with code 9007.
const notReadyContainerID = "notready"

// fixtureTime is the creation time of every fixture object.
var fixtureTime = time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC)

// Fixture ids. The second message id contains a slash, so clients that do
// not escape ids as one path segment reach the wrong path.
var (
	fixtureMediaIDs      = []string{"17900000000000003", "17900000000000002", "17900000000000001"}
	fixtureCommentIDs    = []string{"17850000000000001", "17850000000000002", "17850000000000003"}
	fixtureConversations = []string{
		"aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MTc4NDE0MDUzMDkyMTE4NDQ6MzQwMjgyMzY2ODQxNzEwMzAw",
		"aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MTc4NDE0MDUzMDkyMTE4NDQ6MzQwMjgyMzY2ODQxNzEwMzAx",
	}
	fixtureMessageIDs = []string{
		"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1MzA5MjExODQ0OjMwMDE=",
		"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx/NDA1MzA5MjExODQ0OjMwMDI=",
	}
)

// The other side of the fixture conversations and comments.
const (
	customerID       = "7123456789012345"
	customerUsername = "demo_customer"
	followerID       = "17841400000000042"
	followerUsername = "demo_follower"
)

// mediaItem is a post on the test account.
type mediaItem struct {
	caption   string
	mediaType string
	timestamp time.Time
}

// container is a media container created by POST /me/media.
type container struct {
	caption   string
	mediaType string
	mediaID   string // the published post, empty until published
}

func (s *Server) addFixtureMedia() {
	captions := []string{"Morning light over the harbour", "Behind the scenes", "Our first post"}
	for i, id := range fixtureMediaIDs {
		s.media[id] = &mediaItem{caption: captions[i], mediaType: "IMAGE", timestamp: fixtureTime.Add(-time.Duration(i) * 24 * time.Hour)}
		s.mediaOrder = append(s.mediaOrder, id)
	}
}

// newID returns a fresh numeric object id. The caller holds s.mu.
func (s *Server) newID() string {
	s.lastID++
	return strconv.FormatInt(s.lastID, 10)
}

// isAccount reports whether id names the test account: "me", its
// professional id or its app-scoped id.
func (s *Server) isAccount(id string) bool {
	return id == "me" || id == s.account.UserID || id == s.account.AppScopedID
}

// nodeContext is the input of a field: the server with its lock held, the
// object id and the paging parameters of the request.
type nodeContext struct {
	s    *Server
	id   string
	page pageRequest
}

// fieldFunc returns the value of one field, or false when the object has no
// value for it and the reply leaves it out.
type fieldFunc func(n nodeContext) (any, bool)

// nodeType is one kind of Graph API object: its fields and the function
// that reads it through GET /{id}.
type nodeType struct {
	name     string // as named in error messages
	function string
	fields   map[string]fieldFunc
	defaults []string // fields returned when the request names none
}

// hasAll reports whether the node type has every field in names.
func (t *nodeType) hasAll(names []string) bool {
	for _, name := range names {
		if _, ok := t.fields[name]; !ok {
			return false
		}
	}
	return true
}

// render returns the requested fields of object id, with id always
// included. An unknown field fails with code 100.
func (t *nodeType) render(n nodeContext, names []string) (map[string]any, *graphError) {
	if len(names) == 0 {
		names = t.defaults
	}

	out := map[string]any{"id": n.id}
	for _, name := range names {
		field, ok := t.fields[name]
		if !ok {
			return nil, invalidParam("Tried accessing nonexisting field (%s) on node type (%s)", name, t.name)
		}
		if v, present := field(n); present {
			out[name] = v
		}
	}
	return out, nil
}

// renderList renders each of ids as a node of type t.
func (t *nodeType) renderList(s *Server, ids []string, names []string) ([]map[string]any, *graphError) {
	data := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		item, gerr := t.render(nodeContext{s: s, id: id, page: pageRequest{limit: defaultPageSize}}, names)
		if gerr != nil {
			return nil, gerr
		}
		data = append(data, item)
	}
	return data, nil
}

// constantField returns a fieldFunc that always returns v.
func constantField(v any) fieldFunc {
	return func(nodeContext) (any, bool) { return v, true }
}

func igTime(t time.Time) string {
	return t.UTC().Format(igTimeLayout)
}

func user(id, username string) map[string]any {
	return map[string]any{"id": id, "username": username}
}

func emptyList() map[string]any {
	return map[string]any{"data": []any{}}
}

// userNode is the test account as GET /me returns it. Its id is the
// app-scoped id, while user_id is the professional account id.
var userNode = &nodeType{
	name:     "IGUser",
	function: fnGetUserProfile,
	defaults: []string{},
	fields: map[string]fieldFunc{
		"id":                  func(n nodeContext) (any, bool) { return n.s.account.AppScopedID, true },
		"user_id":             func(n nodeContext) (any, bool) { return n.s.account.UserID, true },
		"username":            func(n nodeContext) (any, bool) { return n.s.account.Username, true },
		"name":                constantField("CredGate Demo"),
		"account_type":        constantField("BUSINESS"),
		"biography":           constantField("Test account of the local Instagram-compatible server"),
		"profile_picture_url": constantField("https://media.igserver.invalid/profile.jpg"),
		"followers_count":     constantField(1280),
		"follows_count":       constantField(180),
		"media_count":         func(n nodeContext) (any, bool) { return len(n.s.mediaOrder), true },
	},
}

// The node types behind GET /{id}, in the order in which a request's fields
// are matched against them.
var (
	conversationNode = &nodeType{
		name:     "IGConversation",
		function: fnGetConversationMessages,
		defaults: []string{"updated_time"},
		fields: map[string]fieldFunc{
			"id":           func(n nodeContext) (any, bool) { return n.id, true },
			"updated_time": constantField(igTime(fixtureTime.Add(time.Hour))),
			"participants": func(n nodeContext) (any, bool) {
				return map[string]any{"data": []any{
					user(n.s.account.UserID, n.s.account.Username),
					user(customerID, customerUsername),
				}}, true
			},
			"messages": func(n nodeContext) (any, bool) {
				ids, pg, gerr := paginate(fixtureMessageIDs, n.page)
				if gerr != nil {
					return nil, false
				}
				data := make([]map[string]any, 0, len(ids))
				for i, id := range ids {
					data = append(data, map[string]any{"id": id, "created_time": igTime(fixtureTime.Add(time.Duration(i) * time.Minute))})
				}
				return listReply{Data: data, Paging: pg}, true
			},
		},
	}

	messageNode = &nodeType{
		name:     "IGMessage",
		function: fnGetMessageInfo,
		defaults: []string{"created_time", "from", "to", "message"},
		fields: map[string]fieldFunc{
			"id":           func(n nodeContext) (any, bool) { return n.id, true },
			"created_time": constantField(igTime(fixtureTime)),
			"from":         constantField(user(customerID, customerUsername)),
			"to": func(n nodeContext) (any, bool) {
				return map[string]any{"data": []any{user(n.s.account.UserID, n.s.account.Username)}}, true
			},
			"message":        constantField("Hi! Is the blue one still available?"),
			"attachments":    constantField(emptyList()),
			"reactions":      constantField(emptyList()),
			"shares":         constantField(emptyList()),
			"is_unsupported": constantField(false),
		},
	}

	containerNode = &nodeType{
		name:     "IGContainer",
		function: fnGetContainerStatus,
		defaults: []string{"status_code"},
		fields: map[string]fieldFunc{
			"id":          func(n nodeContext) (any, bool) { return n.id, true },
			"status_code": func(n nodeContext) (any, bool) { return n.s.containerStatus(n.id), true },
			"status": func(n nodeContext) (any, bool) {
				return containerStatusText[n.s.containerStatus(n.id)], true
			},
		},
	}

	mediaNode = &nodeType{
		name:     "IGMedia",
		function: fnGetMediaDetails,
		defaults: []string{},
		fields: map[string]fieldFunc{
			"id":                 func(n nodeContext) (any, bool) { return n.id, true },
			"caption":            func(n nodeContext) (any, bool) { return n.s.mediaOf(n.id).caption, true },
			"media_type":         func(n nodeContext) (any, bool) { return n.s.mediaOf(n.id).mediaType, true },
			"media_product_type": constantField("FEED"),
			"media_url":          func(n nodeContext) (any, bool) { return "https://media.igserver.invalid/" + n.id + ".jpg", true },
			"permalink":          func(n nodeContext) (any, bool) { return "https://www.igserver.invalid/p/" + n.id + "/", true },
			"shortcode":          func(n nodeContext) (any, bool) { return "C" + n.id[max(0, len(n.id)-8):], true },
			"timestamp":          func(n nodeContext) (any, bool) { return igTime(n.s.mediaOf(n.id).timestamp), true },
			"username":           func(n nodeContext) (any, bool) { return n.s.account.Username, true },
			"owner":              func(n nodeContext) (any, bool) { return map[string]any{"id": n.s.account.UserID}, true },
			"like_count":         constantField(42),
			"comments_count":     constantField(len(fixtureCommentIDs)),
			"is_comment_enabled": constantField(true),
			"is_shared_to_feed":  constantField(true),
			"alt_text":           constantField(""),
			"children":           constantField(emptyList()),
			"thumbnail_url": func(n nodeContext) (any, bool) {
				return "https://media.igserver.invalid/" + n.id + "_thumb.jpg", n.s.mediaOf(n.id).mediaType != "IMAGE"
			},
		},
	}

	commentNode = &nodeType{
		name:     "IGComment",
		function: fnGetCommentDetails,
		defaults: []string{"timestamp", "text"},
		fields: map[string]fieldFunc{
			"id":         func(n nodeContext) (any, bool) { return n.id, true },
			"text":       constantField("Love this!"),
			"timestamp":  constantField(igTime(fixtureTime.Add(30 * time.Minute))),
			"username":   constantField(followerUsername),
			"from":       constantField(user(followerID, followerUsername)),
			"hidden":     constantField(false),
			"like_count": constantField(3),
			"media": constantField(map[string]any{
				"id":                 fixtureMediaIDs[0],
				"media_product_type": "FEED",
			}),
			"parent_id": func(nodeContext) (any, bool) { return nil, false },
			"replies":   constantField(emptyList()),
		},
	}

	// idNodeTypes lists the node types that share GET /{id}.
	idNodeTypes = []*nodeType{conversationNode, messageNode, containerNode, mediaNode, commentNode}
)

var containerStatusText = map[string]string{
	"FINISHED":    "Finished: the media is uploaded and ready to publish",
	"IN_PROGRESS": "In progress: the media is still being processed",
	"PUBLISHED":   "Published: the media container has been published",
}

func (s *Server) mediaOf(id string) *mediaItem {
	if m, ok := s.media[id]; ok {
		return m
	}
	return &mediaItem{caption: "Demo post", mediaType: "IMAGE", timestamp: fixtureTime}
}

// containerStatus returns the status_code of a media container. Ids this
// server never created count as finished uploads.
func (s *Server) containerStatus(id string) string {
	if id == notReadyContainerID {
		return "IN_PROGRESS"
	}
	if c, ok := s.containers[id]; ok && c.mediaID != "" {
		return "PUBLISHED"
	}
	return "FINISHED"
}
