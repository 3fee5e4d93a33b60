package dav

import (
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/emersion/go-ical"

	"cartera/store"
)

// FeedOptions describe a calendar feed beyond its items.
type FeedOptions struct {
	// Name is the calendar's display name in the subscribing client.
	Name string
	// BaseURL ("https://crm.example.com") makes each event link to its
	// record; empty leaves the links out.
	BaseURL string
	// Label names an item's kind for CATEGORIES (translated by the caller).
	Label func(store.CalendarItem) string
	// Host makes UIDs unique across Cartera installations.
	Host string
}

// appointmentLength is how long a task or activity event lasts: records
// carry a time, not a duration.
const (
	taskLength     = 30 * time.Minute
	activityLength = time.Hour
)

// WriteFeed writes items as an RFC 5545 calendar: one VEVENT per item with
// a stable UID ("task-42@host"), DTSTAMP and LAST-MODIFIED from the record's
// last change, SEQUENCE from its version, all times in UTC.
func WriteFeed(w io.Writer, items []store.CalendarItem, o FeedOptions) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Cartera//Cartera CRM//EN")
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	if o.Name != "" {
		cal.Props.SetText(ical.PropName, o.Name)
		cal.Props.SetText("X-WR-CALNAME", o.Name)
	}
	refresh := ical.NewProp(ical.PropRefreshInterval)
	refresh.SetDuration(time.Hour)
	cal.Props.Set(refresh)
	cal.Props.SetText("X-PUBLISHED-TTL", "PT1H")
	host := o.Host
	if host == "" {
		host = "cartera"
	}
	for _, it := range items {
		ev := ical.NewEvent()
		kind, length := "activity", activityLength
		if it.Entity == store.EntTasks {
			kind, length = "task", taskLength
		}
		ev.Props.SetText(ical.PropUID, kind+"-"+strconv.FormatInt(it.ID, 10)+"@"+host)
		stamp := it.UpdatedAt.UTC()
		if stamp.IsZero() {
			stamp = time.Unix(0, 0).UTC()
		}
		ev.Props.SetDateTime(ical.PropDateTimeStamp, stamp)
		ev.Props.SetDateTime(ical.PropLastModified, stamp)
		ev.Props.SetDateTime(ical.PropDateTimeStart, it.At.UTC())
		ev.Props.SetDateTime(ical.PropDateTimeEnd, it.At.Add(length).UTC())
		seq := ical.NewProp(ical.PropSequence)
		seq.SetValueType(ical.ValueInt)
		seq.Value = strconv.FormatInt(max(it.Version-1, 0), 10)
		ev.Props.Set(seq)
		ev.Props.SetText(ical.PropSummary, it.Title)
		if it.Description != "" {
			ev.Props.SetText(ical.PropDescription, it.Description)
		}
		if o.Label != nil {
			cat := ical.NewProp(ical.PropCategories)
			cat.SetTextList([]string{o.Label(it)})
			ev.Props.Set(cat)
		}
		if it.Status == "cancelled" {
			ev.SetStatus(ical.EventCancelled)
		} else {
			ev.SetStatus(ical.EventConfirmed)
		}
		ev.Props.SetText(ical.PropTransparency, "OPAQUE")
		if o.BaseURL != "" {
			if u, err := url.Parse(o.BaseURL + "/" + string(it.Entity) + "/" + strconv.FormatInt(it.ID, 10)); err == nil {
				ev.Props.SetURI(ical.PropURL, u)
			}
		}
		cal.Children = append(cal.Children, ev.Component)
	}
	return ical.NewEncoder(w).Encode(cal)
}
