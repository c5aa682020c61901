package igserver

import (
	"time"
)

// Content publishing quota: API-published posts per account in 24 hours.
const (
	publishQuota       = 100
	publishQuotaWindow = 24 * time.Hour
)

// getUserProfile serves GET /me and GET of the account's own ids: the
// requested fields plus the app-scoped id.
func (s *Server) getUserProfile(c *graphCall) (any, *graphError) {
	p := c.checker()
	names := p.fields()
	if p.err != nil {
		return nil, p.err
	}
	return userNode.render(nodeContext{s: s, id: s.account.AppScopedID}, names)
}

// getNode returns the handler of GET /{id} read as a node of type t.
func (s *Server) getNode(t *nodeType, id string) graphHandler {
	return func(c *graphCall) (any, *graphError) {
		p := c.checker()
		names := p.fields()
		page := pageRequest{limit: defaultPageSize}
		if t == conversationNode {
			page = p.page()
		}
		if p.err != nil {
			return nil, p.err
		}
		if t == conversationNode {
			if _, _, gerr := paginate(fixtureMessageIDs, page); gerr != nil {
				return nil, gerr
			}
		}
		return t.render(nodeContext{s: s, id: id, page: page}, names)
	}
}

// listNodes serves a list edge: the page of ids that the request selects,
// each rendered as a node of type t.
func (s *Server) listNodes(p *paramChecker, t *nodeType, ids []string) (any, *graphError) {
	names := p.fields()
	page := p.page()
	if p.err != nil {
		return nil, p.err
	}

	window, pg, gerr := paginate(ids, page)
	if gerr != nil {
		return nil, gerr
	}
	data, gerr := t.renderList(s, window, names)
	if gerr != nil {
		return nil, gerr
	}
	return listReply{Data: data, Paging: pg}, nil
}

func (s *Server) getUserMedia(c *graphCall) (any, *graphError) {
	return s.listNodes(c.checker(), mediaNode, s.mediaOrder)
}

func (s *Server) getConversations(c *graphCall) (any, *graphError) {
	p := c.checker()
	p.enum("platform", "instagram")
	return s.listNodes(p, conversationNode, fixtureConversations)
}

func (s *Server) getMediaComments(c *graphCall) (any, *graphError) {
	return s.listNodes(c.checker(), commentNode, fixtureCommentIDs)
}

// getReplies serves GET /{comment_id}/replies. Fixture comments have no
// replies.
func (s *Server) getReplies(c *graphCall) (any, *graphError) {
	return s.listNodes(c.checker(), commentNode, nil)
}

// createContainer serves POST /me/media. An image needs image_url, a reel
// or video needs video_url, a story either, and a carousel needs children.
func (s *Server) createContainer(c *graphCall) (any, *graphError) {
	p := c.checker()
	mediaType := p.enum("media_type", "IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL")
	switch mediaType {
	case "", "IMAGE":
		p.required("image_url")
	case "VIDEO", "REELS":
		p.required("video_url")
	case "STORIES":
		if _, ok := p.values["video_url"]; ok {
			p.required("video_url")
		} else {
			p.required("image_url")
		}
	case "CAROUSEL":
		p.required("children")
	}
	p.boolean("is_carousel_item")
	p.boolean("share_to_feed")
	caption, _ := p.value("caption")
	p.value("alt_text")
	p.value("location_id")
	p.tagArray("user_tags", "username")
	p.tagArray("product_tags", "product_id")
	if p.err != nil {
		return nil, p.err
	}

	if mediaType == "" {
		mediaType = "IMAGE"
	}
	id := s.newID()
	s.containers[id] = &container{caption: caption, mediaType: mediaType}
	return map[string]string{"id": id}, nil
}

// publishContainer serves POST /me/media_publish. Ids this server never
// created publish too, as an empty image post. Publishing a container again
// returns the same post.
func (s *Server) publishContainer(c *graphCall) (any, *graphError) {
	p := c.checker()
	creationID := p.required("creation_id")
	if p.err != nil {
		return nil, p.err
	}

	if creationID == notReadyContainerID {
		return nil, &graphError{
			code: 9007, subcode: 2207027, hasSubcode: true,
			message:   "Media ID is not available",
			userTitle: "Media not ready for publishing",
			userMsg:   "The media is not ready for publishing, please wait for a moment",
		}
	}
	cont, known := s.containers[creationID]
	if known && cont.mediaID != "" {
		return map[string]string{"id": cont.mediaID}, nil
	}
	if s.publishedWithin(c.now) >= publishQuota {
		// NOTE: the code and subcode of this error are a best guess at what
		// Instagram sends. Code 4 marks it as throttling for clients.
		return nil, &graphError{
			code: 4, subcode: 2207042, hasSubcode: true,
			message:   "Application request limit reached",
			userTitle: "Maximum number of posts reached",
			userMsg:   "The account has reached its limit of 100 API-published posts in 24 hours",
		}
	}

	// publish: the post goes first in the account's media
	if !known {
		cont = &container{mediaType: "IMAGE"}
		s.containers[creationID] = cont
	}
	cont.mediaID = s.newID()
	s.media[cont.mediaID] = &mediaItem{caption: cont.caption, mediaType: cont.mediaType, timestamp: c.now}
	s.mediaOrder = append([]string{cont.mediaID}, s.mediaOrder...)
	s.publishes = append(s.publishes, c.now)

	return map[string]string{"id": cont.mediaID}, nil
}

// publishedWithin counts the posts published in the quota window before now.
func (s *Server) publishedWithin(now time.Time) int {
	count := 0
	for _, t := range s.publishes {
		if now.Sub(t) < publishQuotaWindow {
			count++
		}
	}
	return count
}

// getPublishingLimit serves GET /{ig_id}/content_publishing_limit.
func (s *Server) getPublishingLimit(c *graphCall) (any, *graphError) {
	p := c.checker()
	p.fields()
	if p.err != nil {
		return nil, p.err
	}

	return map[string]any{"data": []any{map[string]any{
		"quota_usage": s.publishedWithin(c.now),
		"config": map[string]any{
			"quota_total":    publishQuota,
			"quota_duration": int(publishQuotaWindow.Seconds()),
		},
	}}}, nil
}

// replyToComment serves POST /{ig_comment_id}/replies.
func (s *Server) replyToComment(c *graphCall) (any, *graphError) {
	return s.newComment(c)
}

// createComment serves POST /{ig_media_id}/comments.
func (s *Server) createComment(c *graphCall) (any, *graphError) {
	return s.newComment(c)
}

func (s *Server) newComment(c *graphCall) (any, *graphError) {
	p := c.checker()
	p.required("message")
	if p.err != nil {
		return nil, p.err
	}
	return map[string]string{"id": s.newID()}, nil
}

// sendPrivateReply serves POST /{ig_id}/messages. The recipient is a
// comment for a private reply (recipient.comment_id) or a user for a direct
// message (recipient.id).
func (s *Server) sendPrivateReply(c *graphCall) (any, *graphError) {
	p := c.checker()
	recipient := p.object("recipient")
	commentID := p.objectString(recipient, "recipient", "comment_id", false)
	recipientID := p.objectString(recipient, "recipient", "id", false)
	if p.err == nil && commentID == "" && recipientID == "" {
		p.fail("The parameter recipient.comment_id is required")
	}
	message := p.object("message")
	p.objectString(message, "message", "text", true)
	if p.err != nil {
		return nil, p.err
	}

	if recipientID == "" {
		recipientID = customerID
	}
	return map[string]string{
		"recipient_id": recipientID,
		"message_id":   "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj" + s.newID(),
	}, nil
}

// hideComment serves POST /{ig_comment_id}?hide=true|false.
func (s *Server) hideComment(c *graphCall) (any, *graphError) {
	p := c.checker()
	p.requiredBoolean("hide")
	if p.err != nil {
		return nil, p.err
	}
	return map[string]bool{"success": true}, nil
}

// enableComments serves POST /{ig_media_id}?comment_enabled=true|false.
func (s *Server) enableComments(c *graphCall) (any, *graphError) {
	p := c.checker()
	p.requiredBoolean("comment_enabled")
	if p.err != nil {
		return nil, p.err
	}
	return map[string]bool{"success": true}, nil
}

// deleteComment serves DELETE /{ig_comment_id}.
func (s *Server) deleteComment(*graphCall) (any, *graphError) {
	return map[string]bool{"success": true}, nil
}
