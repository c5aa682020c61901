package igserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

const (
	mediaID   = "17900000000000002"
	commentID = "17850000000000001"
	accountID = "27640875392278831"
)

func TestFunctionsMatchAndReply(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		jsonBody bool
		function string
		wantKeys []string // top-level keys the reply must have
	}{
		{"create container", http.MethodPost, "/v23.0/me/media?image_url=https%3A%2F%2Fimg.invalid%2Fa.jpg&caption=Hello&is_carousel_item=false" +
			"&user_tags=" + url.QueryEscape(`[{"username":"someone","x":0.5,"y":0.25}]`) +
			"&product_tags=" + url.QueryEscape(`[{"product_id":"123","x":0.1,"y":0.9}]`),
			"", false, fnMediaContainerCreate, []string{"id"}},
		{"publish container", http.MethodPost, "/v23.0/me/media_publish?creation_id=18000000000000999", "", false, fnMediaContainerPublish, []string{"id"}},
		{"user profile", http.MethodGet, "/v23.0/me?fields=user_id,username", "", false, fnGetUserProfile, []string{"id", "user_id", "username"}},
		{"user media by id", http.MethodGet, "/v23.0/" + accountID + "/media?fields=id,caption&limit=2", "", false, fnGetUserMedia, []string{"data", "paging"}},
		{"user media by me", http.MethodGet, "/v23.0/me/media", "", false, fnGetUserMedia, []string{"data", "paging"}},
		{"conversations", http.MethodGet, "/v23.0/me/conversations?platform=instagram&limit=10", "", false, fnGetConversations, []string{"data", "paging"}},
		{"conversation messages", http.MethodGet, "/v23.0/" + fixtureConversations[0] + "?fields=messages&limit=5", "", false, fnGetConversationMessages, []string{"id", "messages"}},
		{"message info", http.MethodGet, "/v23.0/" + url.PathEscape(fixtureMessageIDs[0]) + "?fields=id,created_time,from,to,message", "", false, fnGetMessageInfo, []string{"id", "from", "to", "message"}},
		{"container status", http.MethodGet, "/v23.0/18000000000000777?fields=status_code", "", false, fnGetContainerStatus, []string{"id", "status_code"}},
		{"media comments", http.MethodGet, "/v23.0/" + mediaID + "/comments?fields=id,text,username&limit=1", "", false, fnGetMediaComments, []string{"data", "paging"}},
		{"reply to comment form", http.MethodPost, "/v23.0/" + commentID + "/replies", "message=Thanks%21", false, fnReplyToComment, []string{"id"}},
		{"reply to comment json", http.MethodPost, "/v23.0/" + commentID + "/replies", `{"message":"Thanks!"}`, true, fnReplyToComment, []string{"id"}},
		{"private reply json", http.MethodPost, "/v23.0/me/messages", `{"recipient":{"comment_id":"` + commentID + `"},"message":{"text":"Hi"}}`, true, fnSendPrivateReply, []string{"recipient_id", "message_id"}},
		{"private reply form", http.MethodPost, "/v23.0/" + accountID + "/messages",
			url.Values{"recipient": {`{"comment_id":"` + commentID + `"}`}, "message": {`{"text":"Hi"}`}}.Encode(), false, fnSendPrivateReply, []string{"recipient_id", "message_id"}},
		{"media insights", http.MethodGet, "/v23.0/" + mediaID + "/insights?metric=reach,likes&period=lifetime", "", false, fnGetMediaInsights, []string{"data"}},
		{"account insights", http.MethodGet, "/v23.0/" + accountID + "/insights?metric=reach&period=day&metric_type=total_value&breakdown=follow_type&timeframe=last_30_days&since=1767225600&until=1767830400", "", false, fnGetAccountInsights, []string{"data"}},
		{"media details", http.MethodGet, "/v23.0/" + mediaID + "?fields=id,caption,media_type,permalink,timestamp", "", false, fnGetMediaDetails, []string{"id", "caption", "media_type"}},
		{"hide comment", http.MethodPost, "/v23.0/" + commentID + "?hide=true", "", false, fnHideUnhideComment, []string{"success"}},
		{"delete comment", http.MethodDelete, "/v23.0/" + commentID, "", false, fnDeleteComment, []string{"success"}},
		{"comment details", http.MethodGet, "/v23.0/" + commentID + "?fields=id,text,hidden,parent_id", "", false, fnGetCommentDetails, []string{"id", "text", "hidden"}},
		{"disable comments", http.MethodPost, "/v23.0/" + mediaID + "?comment_enabled=false", "", false, fnEnableDisableComments, []string{"success"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			token := f.longToken()
			var headers []string
			if tt.jsonBody {
				headers = []string{"Content-Type", "application/json"}
			}

			rec := f.graph(tt.method, tt.target, token, tt.body, headers...)

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			var reply map[string]any
			decodeJSON(t, rec, &reply)
			for _, key := range tt.wantKeys {
				if _, ok := reply[key]; !ok {
					t.Errorf("reply has no %s: %s", key, rec.Body)
				}
			}
			if got := f.lastRequest().Function; got != tt.function {
				t.Errorf("Function = %q, want %q", got, tt.function)
			}
			if strings.Contains(rec.Body.String(), token) {
				t.Errorf("reply contains the token: %s", rec.Body)
			}
		})
	}
}

func TestFunctionsValidateParams(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		jsonBody bool
		want     string // part of the message
	}{
		{"container without image", http.MethodPost, "/v23.0/me/media?caption=x", "", false, "The parameter image_url is required"},
		{"reel without video", http.MethodPost, "/v23.0/me/media?media_type=REELS&image_url=https%3A%2F%2Fimg.invalid%2Fa.jpg", "", false, "The parameter video_url is required"},
		{"carousel without children", http.MethodPost, "/v23.0/me/media?media_type=CAROUSEL", "", false, "The parameter children is required"},
		{"unknown media type", http.MethodPost, "/v23.0/me/media?media_type=GIF&image_url=a", "", false, "Param media_type must be one of"},
		{"carousel item not boolean", http.MethodPost, "/v23.0/me/media?image_url=a&is_carousel_item=1", "", false, "Param is_carousel_item must be a boolean"},
		{"carousel item capitalised", http.MethodPost, "/v23.0/me/media?image_url=a&is_carousel_item=True", "", false, "Param is_carousel_item must be a boolean"},
		{"user tags not json", http.MethodPost, "/v23.0/me/media?image_url=a&user_tags=someone", "", false, "Param user_tags must be a JSON-encoded array"},
		{"user tags object", http.MethodPost, "/v23.0/me/media?image_url=a&user_tags=" + url.QueryEscape(`{"username":"a"}`), "", false, "Param user_tags must be a JSON-encoded array"},
		{"user tags twice", http.MethodPost, "/v23.0/me/media?image_url=a&user_tags=" + url.QueryEscape(`[{"username":"a"}]`) + "&user_tags=" + url.QueryEscape(`[{"username":"b"}]`), "", false, "Param user_tags must be sent once"},
		{"user tag without username", http.MethodPost, "/v23.0/me/media?image_url=a&user_tags=" + url.QueryEscape(`[{"x":0.5,"y":0.5}]`), "", false, "must have a non-empty string username"},
		{"user tag outside image", http.MethodPost, "/v23.0/me/media?image_url=a&user_tags=" + url.QueryEscape(`[{"username":"a","x":1.5,"y":0.5}]`), "", false, "x must be a number from 0 to 1"},
		{"product tag without id", http.MethodPost, "/v23.0/me/media?image_url=a&product_tags=" + url.QueryEscape(`[{"x":0.5}]`), "", false, "product_id"},
		{"publish without creation id", http.MethodPost, "/v23.0/me/media_publish", "", false, "The parameter creation_id is required"},
		{"limit float", http.MethodGet, "/v23.0/me/media?limit=10.0", "", false, `Param limit must be an integer, got "10.0"`},
		{"limit word", http.MethodGet, "/v23.0/me/media?limit=ten", "", false, "Param limit must be an integer"},
		{"limit zero", http.MethodGet, "/v23.0/me/media?limit=0", "", false, "Param limit must be at least 1"},
		{"messages limit float", http.MethodGet, "/v23.0/" + fixtureConversations[0] + "?fields=messages&limit=5.0", "", false, "Param limit must be an integer"},
		{"bad cursor", http.MethodGet, "/v23.0/me/media?after=nonsense", "", false, "Invalid cursor"},
		{"conversations platform", http.MethodGet, "/v23.0/me/conversations?platform=messenger", "", false, "Param platform must be one of {instagram}"},
		{"reply without message", http.MethodPost, "/v23.0/" + commentID + "/replies", "", false, "The parameter message is required"},
		{"reply json without message", http.MethodPost, "/v23.0/" + commentID + "/replies", `{"text":"hi"}`, true, "The parameter message is required"},
		{"private reply no recipient", http.MethodPost, "/v23.0/me/messages", `{"message":{"text":"Hi"}}`, true, "The parameter recipient is required"},
		{"private reply empty recipient", http.MethodPost, "/v23.0/me/messages", `{"recipient":{},"message":{"text":"Hi"}}`, true, "The parameter recipient.comment_id is required"},
		{"private reply recipient string", http.MethodPost, "/v23.0/me/messages", `{"recipient":"` + commentID + `","message":{"text":"Hi"}}`, true, "Param recipient must be a JSON object"},
		{"private reply no text", http.MethodPost, "/v23.0/me/messages", `{"recipient":{"comment_id":"1"},"message":{}}`, true, "The parameter message.text is required"},
		{"private reply no message", http.MethodPost, "/v23.0/me/messages", `{"recipient":{"comment_id":"1"}}`, true, "The parameter message is required"},
		{"json body not object", http.MethodPost, "/v23.0/me/messages", `[1,2]`, true, "Invalid JSON body"},
		{"json limit float", http.MethodGet, "/v23.0/me/media", `{"limit":10.0}`, true, "Param limit must be an integer"},
		{"account insights no metric", http.MethodGet, "/v23.0/me/insights?period=day", "", false, "The parameter metric is required"},
		{"account insights period", http.MethodGet, "/v23.0/me/insights?metric=reach&period=total_over_range", "", false, "Param period must be one of"},
		{"account insights metric type", http.MethodGet, "/v23.0/me/insights?metric=reach&metric_type=sum", "", false, "Param metric_type must be one of"},
		{"account insights breakdown", http.MethodGet, "/v23.0/me/insights?metric=reach&metric_type=total_value&breakdown=city", "", false, "Param breakdown must be one of"},
		{"breakdown needs total value", http.MethodGet, "/v23.0/me/insights?metric=reach&breakdown=follow_type", "", false, "requires metric_type=total_value"},
		{"account insights timeframe", http.MethodGet, "/v23.0/me/insights?metric=reach&timeframe=yesterday", "", false, "Param timeframe must be one of"},
		{"account insights since date", http.MethodGet, "/v23.0/me/insights?metric=reach&since=2026-01-01", "", false, "Param since must be an integer"},
		{"since after until", http.MethodGet, "/v23.0/me/insights?metric=reach&since=200&until=100", "", false, "since must not be after until"},
		{"media insights period", http.MethodGet, "/v23.0/" + mediaID + "/insights?period=year", "", false, "Param period must be one of"},
		{"metric list", http.MethodGet, "/v23.0/" + mediaID + "/insights?metric=reach,,likes", "", false, "Param metric must be a comma-separated list"},
		{"hide not boolean", http.MethodPost, "/v23.0/" + commentID + "?hide=yes", "", false, "Param hide must be a boolean"},
		{"comment enabled not boolean", http.MethodPost, "/v23.0/" + mediaID + "?comment_enabled=0", "", false, "Param comment_enabled must be a boolean"},
		{"post without update", http.MethodPost, "/v23.0/" + commentID + "?text=x", "", false, "The parameter hide or comment_enabled is required"},
		{"post with both updates", http.MethodPost, "/v23.0/" + commentID + "?hide=true&comment_enabled=true", "", false, "cannot be sent together"},
		{"fields twice", http.MethodGet, "/v23.0/me?fields=id&fields=username", "", false, "Param fields must be sent once"},
		{"unsupported content type", http.MethodPost, "/v23.0/me/media?image_url=a", "<xml/>", false, "Unsupported Content-Type"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			token := f.longToken()
			var headers []string
			switch {
			case tt.jsonBody:
				headers = []string{"Content-Type", "application/json"}
			case strings.HasPrefix(tt.body, "<"):
				headers = []string{"Content-Type", "application/xml"}
			}

			e := graphErrorOf(t, f.graph(tt.method, tt.target, token, tt.body, headers...))

			if e.Code != 100 {
				t.Errorf("code = %d, want 100", e.Code)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tt.want)
			}
		})
	}
}

func TestFunctionRecordedOnFailure(t *testing.T) {
	f := newFixture(t, Options{})

	f.graph(http.MethodPost, "/v23.0/me/media_publish", "IGAAbad", "")

	if got := f.lastRequest().Function; got != fnMediaContainerPublish {
		t.Errorf("Function = %q, want %q", got, fnMediaContainerPublish)
	}
}

func TestSharedIDPathResolution(t *testing.T) {
	tests := []struct {
		fields   string
		function string
	}{
		{"", fnGenericGet},
		{"id", fnGenericGet},
		{"messages", fnGetConversationMessages},
		{"messages{id,created_time,from,to,message}", fnGetConversationMessages},
		{"participants,updated_time", fnGetConversationMessages},
		{"message,created_time", fnGetMessageInfo},
		{"from", fnGetMessageInfo},
		{"status_code", fnGetContainerStatus},
		{"id,status_code,status", fnGetContainerStatus},
		{"caption,media_type", fnGetMediaDetails},
		{"timestamp,like_count", fnGetMediaDetails},
		{"comments.limit(5),caption", fnGenericGet},
		{"text,hidden", fnGetCommentDetails},
		{"text,timestamp", fnGetCommentDetails},
		{"caption,text", fnGenericGet},
		{"nonsense", fnGenericGet},
	}

	for _, tt := range tests {
		t.Run(tt.fields, func(t *testing.T) {
			f := newFixture(t, Options{})
			target := "/v23.0/17999999999999999"
			if tt.fields != "" {
				target += "?fields=" + url.QueryEscape(tt.fields)
			}

			rec := f.graph(http.MethodGet, target, f.longToken(), "")

			if got := f.lastRequest().Function; got != tt.function {
				t.Errorf("Function = %q, want %q", got, tt.function)
			}
			generic := tt.function == fnGenericGet
			if fitsNone := generic && tt.fields != "" && tt.fields != "id"; fitsNone {
				if e := graphErrorOf(t, rec); e.Code != 100 || !strings.Contains(e.Message, "nonexisting field") {
					t.Errorf("error = %+v, want code 100 nonexisting field", e)
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestUnsupportedPaths(t *testing.T) {
	tests := []struct {
		method string
		path   string
		want   string
	}{
		{http.MethodGet, "/v23.0/me/stories_archive", "Unsupported get request. Object with ID 'me'"},
		{http.MethodGet, "/v23.0/27640875392278832/media", "Object with ID '27640875392278832' does not exist"},
		{http.MethodPost, "/v23.0/27640875392278832/media?image_url=a", "Unsupported post request"},
		{http.MethodGet, "/v23.0/" + mediaID + "/media", "Unsupported get request"},
		{http.MethodGet, "/v23.0/me/comments", "Unsupported get request"},
		{http.MethodPost, "/v23.0/me", "Unsupported post request"},
		{http.MethodDelete, "/v23.0/me", "Unsupported delete request"},
		{http.MethodPut, "/v23.0/" + commentID, "Unsupported put request"},
		{http.MethodGet, "/v23.0/a/b/c", "Unsupported get request. Object with ID 'a'"},
		{http.MethodGet, "/v23.0/", "Unsupported get request"},
	}

	f := newFixture(t, Options{})
	token := f.longToken()
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := graphErrorOf(t, f.graph(tt.method, tt.path, token, ""))

			if e.Code != 100 || !strings.Contains(e.Message, tt.want) {
				t.Errorf("error = %+v, want code 100 containing %q", e, tt.want)
			}
			if got := f.lastRequest().Function; got != "" {
				t.Errorf("Function = %q, want none", got)
			}
		})
	}
}

func TestPublishFlow(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	// create a container and check that it is ready
	rec := f.graph(http.MethodPost, "/v23.0/me/media?image_url=https%3A%2F%2Fimg.invalid%2Fa.jpg&caption=Launch+day", token, "")
	var created map[string]string
	decodeJSON(t, rec, &created)
	containerID := created["id"]
	if containerID == "" {
		t.Fatalf("no container id: %s", rec.Body)
	}
	if got := containerStatusOf(t, f, token, containerID); got != "FINISHED" {
		t.Errorf("status_code before publishing = %q, want FINISHED", got)
	}

	// publish it
	rec = f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id="+containerID, token, "")
	var published map[string]string
	decodeJSON(t, rec, &published)
	mediaID := published["id"]
	if mediaID == "" || mediaID == containerID {
		t.Fatalf("publish reply = %s, want a new media id", rec.Body)
	}
	if got := containerStatusOf(t, f, token, containerID); got != "PUBLISHED" {
		t.Errorf("status_code after publishing = %q, want PUBLISHED", got)
	}

	// the post leads the account's media, with its caption
	rec = f.graph(http.MethodGet, "/v23.0/me/media?fields=caption&limit=1", token, "")
	var list struct {
		Data []map[string]string `json:"data"`
	}
	decodeJSON(t, rec, &list)
	if len(list.Data) != 1 || list.Data[0]["id"] != mediaID || list.Data[0]["caption"] != "Launch day" {
		t.Errorf("first media = %+v, want %s with caption Launch day", list.Data, mediaID)
	}

	// publishing again returns the same post
	rec = f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id="+containerID, token, "")
	decodeJSON(t, rec, &published)
	if published["id"] != mediaID {
		t.Errorf("second publish = %s, want %s", rec.Body, mediaID)
	}
}

func containerStatusOf(t *testing.T, f *fixture, token, id string) string {
	t.Helper()
	rec := f.graph(http.MethodGet, "/v23.0/"+id+"?fields=status_code", token, "")
	var reply map[string]string
	decodeJSON(t, rec, &reply)
	return reply["status_code"]
}

func TestPublishNotReady(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	e := graphErrorOf(t, f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id=notready", token, ""))

	if e.Code != 9007 || subcodeOf(e) != 2207027 {
		t.Errorf("error = %+v subcode %d, want 9007 and 2207027", e, subcodeOf(e))
	}
	if got := containerStatusOf(t, f, token, "notready"); got != "IN_PROGRESS" {
		t.Errorf("status_code = %q, want IN_PROGRESS", got)
	}
}

func TestPublishQuota(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	for i := range publishQuota {
		if rec := f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id=c"+strconv.Itoa(i), token, ""); rec.Code != http.StatusOK {
			t.Fatalf("publish %d: status %d, body %s", i, rec.Code, rec.Body)
		}
	}

	rec := f.graph(http.MethodGet, "/v23.0/me/content_publishing_limit?fields=quota_usage,config", token, "")
	if !strings.Contains(rec.Body.String(), `"quota_usage":100`) {
		t.Errorf("publishing limit = %s, want quota_usage 100", rec.Body)
	}
	e := graphErrorOf(t, f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id=one-more", token, ""))
	if e.Code != 4 || subcodeOf(e) != 2207042 {
		t.Errorf("publish over quota: code %d subcode %d, want 4 and 2207042", e.Code, subcodeOf(e))
	}

	f.clock.Advance(publishQuotaWindow)
	if rec := f.graph(http.MethodPost, "/v23.0/me/media_publish?creation_id=next-day", token, ""); rec.Code != http.StatusOK {
		t.Errorf("publish a day later: status %d, body %s", rec.Code, rec.Body)
	}
}

func TestMediaPagination(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	var ids []string
	after := ""
	for page := 0; page < 5; page++ {
		target := "/v23.0/me/media?limit=1"
		if after != "" {
			target += "&after=" + url.QueryEscape(after)
		}
		rec := f.graph(http.MethodGet, target, token, "")
		var reply listReply
		decodeJSON(t, rec, &reply)
		if len(reply.Data) == 0 {
			break
		}
		ids = append(ids, reply.Data[0]["id"].(string))
		after = reply.Paging.Cursors.After
	}

	if got := strings.Join(ids, ","); got != strings.Join(fixtureMediaIDs, ",") {
		t.Errorf("paged ids = %s, want %s", got, strings.Join(fixtureMediaIDs, ","))
	}

	// before the last item: the two items ahead of it
	rec := f.graph(http.MethodGet, "/v23.0/me/media?limit=2&before="+url.QueryEscape(encodeCursor(fixtureMediaIDs[2])), token, "")
	var reply listReply
	decodeJSON(t, rec, &reply)
	if len(reply.Data) != 2 || reply.Data[0]["id"] != fixtureMediaIDs[0] {
		t.Errorf("before page = %s", rec.Body)
	}
}

func TestInsightsReplies(t *testing.T) {
	tests := []struct {
		name   string
		target string
		check  func(t *testing.T, data []insight)
	}{
		{"account time series", "/v23.0/me/insights?metric=reach,follower_count&period=day", func(t *testing.T, data []insight) {
			if len(data) != 2 || data[0].Name != "reach" || len(data[0].Values) != 2 || data[0].Values[0].EndTime == "" {
				t.Errorf("data = %+v, want two metrics with two dated values", data)
			}
		}},
		{"account total value", "/v23.0/me/insights?metric=accounts_engaged&period=day&metric_type=total_value&breakdown=follow_type", func(t *testing.T, data []insight) {
			if len(data) != 1 || data[0].TotalValue == nil || len(data[0].TotalValue.Breakdowns) != 1 {
				t.Fatalf("data = %+v, want one total value with a breakdown", data)
			}
			sum := 0
			for _, r := range data[0].TotalValue.Breakdowns[0].Results {
				sum += r.Value
			}
			if sum != data[0].TotalValue.Value {
				t.Errorf("breakdown sums to %d, want %d", sum, data[0].TotalValue.Value)
			}
		}},
		{"media default metrics", "/v23.0/" + mediaID + "/insights", func(t *testing.T, data []insight) {
			if len(data) != 5 || data[0].Period != "lifetime" || len(data[0].Values) != 1 {
				t.Errorf("data = %+v, want five lifetime metrics", data)
			}
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			rec := f.graph(http.MethodGet, tt.target, f.longToken(), "")
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
			}
			var reply insightsReply
			decodeJSON(t, rec, &reply)
			tt.check(t, reply.Data)
		})
	}
}

func TestConversationMessagesPage(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	rec := f.graph(http.MethodGet, "/v23.0/"+fixtureConversations[0]+"?fields=messages{id,message}&limit=1", token, "")

	var reply struct {
		Messages listReply `json:"messages"`
	}
	decodeJSON(t, rec, &reply)
	if len(reply.Messages.Data) != 1 || reply.Messages.Data[0]["id"] != fixtureMessageIDs[0] {
		t.Errorf("messages = %s, want one page with the first message", rec.Body)
	}
}
