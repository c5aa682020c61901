package igserver

import (
	"net/http"
)

// Names of the Instagram functions, as recorded in Request.Function.
const (
	fnMediaContainerCreate    = "INSTAGRAM__MEDIA_CONTAINER_CREATE"
	fnMediaContainerPublish   = "INSTAGRAM__MEDIA_CONTAINER_PUBLISH"
	fnGetUserProfile          = "INSTAGRAM__GET_USER_PROFILE"
	fnGetUserMedia            = "INSTAGRAM__GET_USER_MEDIA"
	fnGetConversations        = "INSTAGRAM__GET_CONVERSATIONS"
	fnGetConversationMessages = "INSTAGRAM__GET_CONVERSATION_MESSAGES"
	fnGetMessageInfo          = "INSTAGRAM__GET_MESSAGE_INFO"
	fnGetContainerStatus      = "INSTAGRAM__GET_CONTAINER_STATUS"
	fnGetMediaComments        = "INSTAGRAM__GET_MEDIA_COMMENTS"
	fnReplyToComment          = "INSTAGRAM__REPLY_TO_COMMENT"
	fnSendPrivateReply        = "INSTAGRAM__SEND_PRIVATE_REPLY"
	fnGetMediaInsights        = "INSTAGRAM__GET_MEDIA_INSIGHTS"
	fnGetAccountInsights      = "INSTAGRAM__GET_ACCOUNT_INSIGHTS"
	fnGetMediaDetails         = "INSTAGRAM__GET_MEDIA_DETAILS"
	fnHideUnhideComment       = "INSTAGRAM__HIDE_UNHIDE_COMMENT"
	fnDeleteComment           = "INSTAGRAM__DELETE_COMMENT"
	fnGetCommentDetails       = "INSTAGRAM__GET_COMMENT_DETAILS"
	fnEnableDisableComments   = "INSTAGRAM__ENABLE_DISABLE_COMMENTS"

	// fnGenericGet and fnGenericPost are recorded when a request on the
	// shared /{id} path fits none of the functions behind it.
	fnGenericGet  = "GET /{id}"
	fnGenericPost = "POST /{id}"
)

// route matches a Graph API call to its handler by method and path. Paths
// that match nothing get a handler that fails with "Unsupported … request".
func (s *Server) route(c *graphCall) graphRoute {
	var objectID string
	if len(c.segments) > 0 {
		objectID = c.segments[0]
	}
	unsupported := graphRoute{handle: func(*graphCall) (any, *graphError) {
		return nil, unsupportedRequest(c.method, objectID)
	}}
	if objectID == "" {
		return unsupported
	}

	switch len(c.segments) {
	case 1:
		return s.routeNode(c, objectID, unsupported)
	case 2:
		return s.routeEdge(c, objectID, c.segments[1], unsupported)
	default:
		return unsupported
	}
}

// routeNode matches /{id} and /me.
func (s *Server) routeNode(c *graphCall, id string, unsupported graphRoute) graphRoute {
	switch {
	case id == "me" && c.method == http.MethodGet:
		return graphRoute{fnGetUserProfile, s.getUserProfile}
	case id == "me":
		return unsupported
	case c.method == http.MethodGet:
		return s.routeNodeRead(c, id)
	case c.method == http.MethodPost:
		return s.routeNodeUpdate(c, id)
	case c.method == http.MethodDelete:
		return graphRoute{fnDeleteComment, s.deleteComment}
	default:
		return unsupported
	}
}

// routeNodeRead resolves GET /{id}, which five functions share. An id does
// not show what it names, so the requested fields decide: the first node
// type that has them all wins, in the order of idNodeTypes. A request with
// no fields beyond id fits every type, so it is recorded as generic. The
// account's own ids read the account, as on graph.instagram.com.
func (s *Server) routeNodeRead(c *graphCall, id string) graphRoute {
	if s.isAccount(id) {
		return graphRoute{fnGenericGet, s.getUserProfile}
	}

	names := fieldNames(c.params.Get("fields"))
	if len(names) == 0 || (len(names) == 1 && names[0] == "id") {
		return graphRoute{fnGenericGet, func(c *graphCall) (any, *graphError) {
			p := c.checker()
			p.fields()
			if p.err != nil {
				return nil, p.err
			}
			return map[string]any{"id": id}, nil
		}}
	}

	for _, t := range idNodeTypes {
		if t.hasAll(names) {
			return graphRoute{t.function, s.getNode(t, id)}
		}
	}

	// no type fits: let the closest one name the field it lacks
	best, bestCount := idNodeTypes[0], -1
	for _, t := range idNodeTypes {
		count := 0
		for _, name := range names {
			if _, ok := t.fields[name]; ok {
				count++
			}
		}
		if count > bestCount {
			best, bestCount = t, count
		}
	}
	return graphRoute{fnGenericGet, s.getNode(best, id)}
}

// routeNodeUpdate resolves POST /{id} by its parameters: hide hides or
// shows a comment, comment_enabled turns comments on a post on or off.
func (s *Server) routeNodeUpdate(c *graphCall, id string) graphRoute {
	_, hide := c.params["hide"]
	_, commentEnabled := c.params["comment_enabled"]

	switch {
	case hide && commentEnabled:
		return graphRoute{fnGenericPost, func(*graphCall) (any, *graphError) {
			return nil, invalidParam("Params hide and comment_enabled cannot be sent together")
		}}
	case hide:
		return graphRoute{fnHideUnhideComment, s.hideComment}
	case commentEnabled:
		return graphRoute{fnEnableDisableComments, s.enableComments}
	default:
		return graphRoute{fnGenericPost, func(*graphCall) (any, *graphError) {
			return nil, invalidParam("The parameter hide or comment_enabled is required to update object %s", id)
		}}
	}
}

// routeEdge matches /{id}/{edge}. Edges of the account accept "me", the
// professional id and the app-scoped id. Other ids are taken as media or
// comments.
func (s *Server) routeEdge(c *graphCall, id, edge string, unsupported graphRoute) graphRoute {
	account := s.isAccount(id)
	get := c.method == http.MethodGet
	post := c.method == http.MethodPost

	switch {
	case edge == "media" && account && get:
		return graphRoute{fnGetUserMedia, s.getUserMedia}
	case edge == "media" && account && post:
		return graphRoute{fnMediaContainerCreate, s.createContainer}
	case edge == "media_publish" && account && post:
		return graphRoute{fnMediaContainerPublish, s.publishContainer}
	case edge == "conversations" && account && get:
		return graphRoute{fnGetConversations, s.getConversations}
	case edge == "messages" && account && post:
		return graphRoute{fnSendPrivateReply, s.sendPrivateReply}
	case edge == "content_publishing_limit" && account && get:
		return graphRoute{"", s.getPublishingLimit}
	case edge == "insights" && account && get:
		return graphRoute{fnGetAccountInsights, s.getAccountInsights}
	case edge == "insights" && get:
		return graphRoute{fnGetMediaInsights, s.getMediaInsights}
	case edge == "comments" && !account && get:
		return graphRoute{fnGetMediaComments, s.getMediaComments}
	case edge == "comments" && !account && post:
		return graphRoute{"", s.createComment}
	case edge == "replies" && !account && post:
		return graphRoute{fnReplyToComment, s.replyToComment}
	case edge == "replies" && !account && get:
		return graphRoute{"", s.getReplies}
	default:
		return unsupported
	}
}
