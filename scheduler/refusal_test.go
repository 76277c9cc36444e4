package scheduler_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dieuphoi/dieuphoi/scheduler"
	"github.com/dieuphoi/dieuphoi/storage/sqlstore"
)

// A permanent refusal (400 Bad Request; 404/405/501, a method the server
// does not have) is given up after its one attempt, not retried with
// backoff like a 5xx; a 5xx is retried.
func TestPermanentRefusalIsNotRetried(t *testing.T) {
	eachStore(t, func(t *testing.T, st testStore) {
		e := newEnv(t, st, conferencePeople(), testSchedule+"send: {max_attempts: 3, per_second: 200, per_chat_per_second: 20}\n")
		seedConference(e)
		s := e.scheduler(st, "w1", nil)
		start := at("2024-07-29 10:00")
		e.clk.Set(start)
		for i, tc := range []struct {
			code    int
			desc    string
			retried bool
		}{
			{400, "Bad Request: message is too long", false},
			{404, "Not Found: method not found", false},
			{501, "Not Implemented", false},
			{502, "Bad Gateway", true},
		} {
			id := fmt.Sprintf("r%d", i)
			e.srv.FailNextWith("sendMessage", 1, tc.code, 0, tc.desc)
			if _, err := s.Broadcast(e.ctx, id, "Thông báo "+id, scheduler.AudienceStaff); err != nil {
				t.Fatal(err)
			}
			calls := e.srv.Calls("sendMessage")
			s.Drain(e.ctx)
			e.clk.Add(time.Hour) // past any backoff
			s.Drain(e.ctx)
			got := e.srv.Calls("sendMessage") - calls
			var row sqlstore.OutboxItem
			for _, it := range e.items(scheduler.JobBroadcast) {
				if it.Key == "broadcast|"+id+"|ST" {
					row = it
				}
			}
			switch {
			case tc.retried && (got != 2 || row.Status != sqlstore.OutboxSent):
				t.Errorf("%d: %d attempts, row %s; want a retry that is sent", tc.code, got, row.Status)
			case !tc.retried && (got != 1 || row.Status != sqlstore.OutboxFailed || row.Attempts != 1 || !strings.Contains(row.LastError, tc.desc)):
				t.Errorf("%d: %d attempts, row %s after %d (%q); want one attempt, failed", tc.code, got, row.Status, row.Attempts, row.LastError)
			}
		}
	})
}
