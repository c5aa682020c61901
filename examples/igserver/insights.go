package igserver

import (
	"hash/fnv"
	"strings"
	"time"
)

// Enum values of the insights parameters.
var (
	accountPeriods = []string{"day", "week", "days_28", "month", "lifetime"}
	mediaPeriods   = []string{"day", "week", "days_28", "month", "lifetime", "total_over_range"}
	metricTypes    = []string{"time_series", "total_value"}
	breakdowns     = []string{"contact_button_type", "follow_type", "media_product_type"}
	timeframes     = []string{"last_14_days", "last_30_days", "last_90_days", "prev_month", "this_month", "this_week"}
)

// defaultMediaMetrics are the metrics of media insights when the request
// names none.
const defaultMediaMetrics = "reach,likes,comments,saved,shares"

// breakdownValues are the dimension values reported for each breakdown.
var breakdownValues = map[string][]string{
	"contact_button_type": {"CALL", "EMAIL", "TEXT"},
	"follow_type":         {"FOLLOWER", "NON_FOLLOWER"},
	"media_product_type":  {"POST", "REEL", "STORY"},
}

// insight is one metric of an insights reply.
type insight struct {
	Name        string         `json:"name"`
	Period      string         `json:"period"`
	Values      []insightValue `json:"values,omitempty"`
	TotalValue  *totalValue    `json:"total_value,omitempty"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	ID          string         `json:"id"`
}

type insightValue struct {
	Value   int    `json:"value"`
	EndTime string `json:"end_time,omitempty"`
}

type totalValue struct {
	Value      int         `json:"value"`
	Breakdowns []breakdown `json:"breakdowns,omitempty"`
}

type breakdown struct {
	DimensionKeys []string          `json:"dimension_keys"`
	Results       []breakdownResult `json:"results"`
}

type breakdownResult struct {
	DimensionValues []string `json:"dimension_values"`
	Value           int      `json:"value"`
}

type insightsReply struct {
	Data []insight `json:"data"`
}

// getAccountInsights serves GET /{ig_account_id}/insights.
func (s *Server) getAccountInsights(c *graphCall) (any, *graphError) {
	p := c.checker()
	metrics := metricNames(p, p.required("metric"))
	period := p.enum("period", accountPeriods...)
	metricType := p.enum("metric_type", metricTypes...)
	dimension := p.enum("breakdown", breakdowns...)
	p.enum("timeframe", timeframes...)
	since, hasSince := p.integer("since", 0)
	until, hasUntil := p.integer("until", 0)
	if hasSince && hasUntil && since > until {
		p.fail("Param since must not be after until")
	}
	if dimension != "" && metricType != "total_value" {
		p.fail("Param breakdown requires metric_type=total_value")
	}
	if p.err != nil {
		return nil, p.err
	}

	if period == "" {
		period = "day"
	}
	return buildInsights(s.account.UserID, metrics, period, metricType, dimension, c.now), nil
}

// getMediaInsights serves GET /{instagram_media_id}/insights.
func (s *Server) getMediaInsights(c *graphCall) (any, *graphError) {
	p := c.checker()
	list, ok := p.value("metric")
	if !ok {
		list = defaultMediaMetrics
	}
	metrics := metricNames(p, list)
	period := p.enum("period", mediaPeriods...)
	if p.err != nil {
		return nil, p.err
	}

	if period == "" {
		period = "lifetime"
	}
	return buildInsights(c.segments[0], metrics, period, "", "", c.now), nil
}

// metricNames splits a comma-separated metric list. Any lowercase snake_case
// name is accepted, because Instagram adds and retires metrics often.
func metricNames(p *paramChecker, list string) []string {
	if p.err != nil {
		return nil
	}

	var names []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if !isSnakeCase(name) {
			p.fail("Param metric must be a comma-separated list of metric names, got %q", list)
			return nil
		}
		names = append(names, name)
	}
	return names
}

func isSnakeCase(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// buildInsights returns made-up but stable values: each depends only on the
// object id and the metric name.
func buildInsights(objectID string, metrics []string, period, metricType, dimension string, now time.Time) insightsReply {
	day := now.UTC().Truncate(24 * time.Hour).Add(8 * time.Hour)

	reply := insightsReply{Data: make([]insight, 0, len(metrics))}
	for _, metric := range metrics {
		v := metricValue(objectID, metric)
		item := insight{
			Name:        metric,
			Period:      period,
			Title:       strings.ToUpper(metric[:1]) + strings.ReplaceAll(metric[1:], "_", " "),
			Description: "Demo value of " + metric,
			ID:          objectID + "/insights/" + metric + "/" + period,
		}

		switch {
		case metricType == "total_value":
			item.TotalValue = &totalValue{Value: v}
			if dimension != "" {
				item.TotalValue.Breakdowns = []breakdown{breakdownOf(dimension, v)}
			}
		case period == "lifetime" || period == "total_over_range":
			item.Values = []insightValue{{Value: v}}
		default:
			item.Values = []insightValue{
				{Value: v / 2, EndTime: igTime(day.Add(-24 * time.Hour))},
				{Value: v - v/2, EndTime: igTime(day)},
			}
		}
		reply.Data = append(reply.Data, item)
	}
	return reply
}

// breakdownOf splits total over the dimension values of dimension.
func breakdownOf(dimension string, total int) breakdown {
	values := breakdownValues[dimension]
	b := breakdown{DimensionKeys: []string{dimension}}
	remaining := total
	for i, dimensionValue := range values {
		share := remaining
		if i < len(values)-1 {
			share = total / len(values)
		}
		remaining -= share
		b.Results = append(b.Results, breakdownResult{DimensionValues: []string{dimensionValue}, Value: share})
	}
	return b
}

func metricValue(objectID, metric string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(objectID + "/" + metric))
	return int(h.Sum32()%900) + 100
}
