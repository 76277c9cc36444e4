package flows

import (
	"strings"
	"testing"

	"github.com/dieuphoi/dieuphoi/domain"
)

// FuzzStep sends arbitrary button data and text to a focal point's and a
// staff member's chat in every state: nothing may panic, every reply has
// text, and no input crafted by a focal point of STC may change another
// agency's indicator or review anything.
func FuzzStep(f *testing.F) {
	for _, s := range []string{"rsvp:attend", "rsvp:sub", "sub:ok", "ind:2.2.2", "ind:1.1.1", "ind:", "val:0", "val:-1", "val:99",
		"iv:ok", "ev:done", "ev:skip", "sm:send", "ed:value", "ed:", "rv:2.2.2|STC", "ra:1.1.1|SKHCN|1", "rr:P1.04|STC|x",
		"ex:xlsx", "ex:../../etc", "hs:2.2.2|STC", "hs:1.1.1|SKHCN", "hs:2.2.2|SKHCN", "hs:|", "lang:xx", "menu:review", "rv:|", "ra:||||", "1.234", "12,5%", "/start", "huy",
		"mt:docs", "mt:s:a0", "mt:s:a99", "mt:s:d1", "mt:s:dx", "mt:anon:1", "mt:v:1:1", "mt:v:x:-1", "mt:"} {
		for _, st := range []string{"", stateIndValue, stateIndAmbig, stateIndEvidence, stateIndSummary, stateRevComment, stateSubConfirm,
			stateMtSubject, stateMtText, stateMtAnon, stateMtTopic} {
			f.Add(s, st, true)
			f.Add(s, st, false)
		}
	}
	f.Fuzz(func(t *testing.T, data, state string, button bool) {
		c := newCampaign(t)
		c.subs[[2]string{"1.1.1", "SKHCN"}] = domain.Submission{Indicator: "1.1.1", Agency: "SKHCN", Status: domain.StatusSubmitted, Version: 1}
		for _, who := range []string{"DB002", "DB003"} {
			p, _ := c.dir.Person(who)
			s := Session{PersonID: who, State: state, Draft: map[string]string{"w": `{"c":"2.2.2","ch":["1234"]}`, "code": "1.1.1", "agency": "SKHCN", "ver": "1"}}
			in := Input{Kind: InText, Text: data}
			if button {
				in = Input{Kind: InButton, Data: data}
			}
			f := Facts{Now: c.now, Channel: domain.Telegram, UserID: who, ChatID: who, Event: testEvent(), Directory: c.dir,
				Person: &p, Catalog: c.cat, Submissions: map[string]domain.Submission{}}
			if who == "DB003" {
				f.ReviewQueue = []domain.Submission{c.subs[[2]string{"1.1.1", "SKHCN"}]}
			}
			r := Step(s, in, f)
			for _, rep := range r.Replies {
				if rep.Text == "" && rep.File == nil {
					t.Fatalf("%s in state %q with %q: an empty reply", who, state, data)
				}
			}
			for _, e := range r.Effects {
				switch e := e.(type) {
				case domain.SaveSubmission:
					if who != "DB002" || e.Submission.Agency != "STC" {
						t.Fatalf("%s saved %s/%s", who, e.Submission.Indicator, e.Submission.Agency)
					}
				case domain.ReviewSubmission:
					if who != "DB003" {
						t.Fatalf("%s reviewed %s/%s", who, e.Indicator, e.Agency)
					}
				}
			}
			for _, tk := range r.Tasks {
				// A focal point may only see their own agency's history.
				if who == "DB002" && !(tk.Name == "history" && strings.HasSuffix(tk.Arg, "|STC")) {
					t.Fatalf("a focal point got task %v", tk)
				}
			}
		}
	})
}
