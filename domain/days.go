package domain

import "time"

// DaysUntil counts the whole calendar days, in loc, from the date of now to
// the date of t: 0 on the day itself (whatever the hour), 1 the day before,
// negative once the date has passed. Every countdown — console, chat and
// reminders — uses this one rule, so that they never disagree by an hour's
// rounding.
func DaysUntil(now, t time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	ny, nm, nd := now.In(loc).Date()
	ty, tm, td := t.In(loc).Date()
	// Noon UTC on both dates: no daylight-saving or zone offset can move
	// the difference off a whole number of days.
	a := time.Date(ny, nm, nd, 12, 0, 0, 0, time.UTC)
	b := time.Date(ty, tm, td, 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Round(24*time.Hour) / (24 * time.Hour))
}
