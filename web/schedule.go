package web

import (
	"net/http"

	"github.com/dieuphoi/dieuphoi/scheduler"
)

// ScheduleDays is how far ahead the reminders page looks.
const ScheduleDays = 14

type scheduleView struct {
	None     bool // no scheduler configured
	Days     int
	Upcoming []scheduler.Planned
	Done     []scheduler.Done
	Status   func(string) string
}

// serveSchedule lists the reminders of the coming days (when, to how many,
// what they say) and what was sent or skipped and why.
func (c *Console) serveSchedule(w http.ResponseWriter, r *http.Request, s *session) {
	v := scheduleView{None: c.cfg.Reminders == nil, Days: ScheduleDays, Status: scheduler.StatusText}
	if !v.None {
		var err error
		v.Upcoming, v.Done, err = c.cfg.Reminders(r.Context(), ScheduleDays)
		if err != nil {
			c.cfg.Log.Error("console: reminders", "err", err)
			c.fail(w, r, s, http.StatusInternalServerError, "Không đọc được lịch nhắc", "Không đọc được lịch nhắc lúc này; xin thử lại sau ít phút.")
			return
		}
	}
	c.render(w, r, s, http.StatusOK, "schedule", "Lịch nhắc", v)
}
