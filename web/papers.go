package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/papers"
)

// The printed papers (package papers) in the console: a person's
// invitation, an agency's merged invitations, the badges and the seating
// list in protocol order, and the page that lists the seating order.

// invitee is a person as the papers print them, with their links.
func (c *Console) invitee(p domain.Person, forName string) papers.Invitee {
	a, _ := c.cfg.Directory().Agency(p.AgencyCode)
	return papers.NewInvitee(p, a, forName, c.cfg.PublicURL, c.cfg.BotUsername())
}

// substituteFor is the name of the delegate a substitute replaces, "" for
// anyone else.
func (c *Console) substituteFor(p domain.Person) string {
	if d, ok := c.cfg.Directory().Person(p.SubstituteFor); ok && p.SubstituteFor != "" {
		return d.FullName
	}
	return ""
}

// servePaper serves one of the papers as a PDF download, for the event
// chosen in the console's switcher (?event=ID, else the cookie's): its
// invitees only, its name, time and venue.
func (c *Console) servePaper(w http.ResponseWriter, r *http.Request, s *session) {
	kind := r.PathValue("kind")
	rec, _, err := c.viewedEvent(nil, r)
	if err != nil {
		c.oops(w, r, s, "paper "+kind, err)
		return
	}
	ev := rec.Event
	dir := eventPeople(rec, c.cfg.Directory())
	var data []byte
	var name string
	switch kind {
	case "invitation.pdf": // ?person=ID
		p, ok := dir.Person(r.URL.Query().Get("person"))
		if !ok || !guest(p) {
			c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đại biểu này trong danh sách.")
			return
		}
		name = "giay-moi-" + p.ID + ".pdf"
		data, err = papers.Invitations(ev, []papers.Invitee{c.invitee(p, c.substituteFor(p))}, c.now())
	case "invitations.pdf": // ?agency=CODE
		code := r.URL.Query().Get("agency")
		if _, ok := dir.Agency(code); !ok {
			c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có đơn vị này.")
			return
		}
		var list []papers.Invitee
		for _, p := range dir.People() {
			if p.AgencyCode == code && guest(p) {
				list = append(list, c.invitee(p, c.substituteFor(p)))
			}
		}
		name = "giay-moi-" + code + ".pdf"
		data, err = papers.Invitations(ev, list, c.now())
	case "badges.pdf", "seating.pdf":
		var seats []papers.Seat
		if seats, err = c.seats(r.Context(), rec); err != nil {
			break
		}
		if kind == "badges.pdf" {
			name = "the-dai-bieu.pdf"
			data, err = papers.Badges(ev, seats)
		} else {
			name = "xep-cho.pdf"
			data, err = papers.SeatingList(ev, seats)
		}
	default:
		c.fail(w, r, s, http.StatusNotFound, "Không tìm thấy", "Không có loại giấy tờ này.")
		return
	}
	switch {
	case errors.Is(err, papers.ErrNoIssuer):
		c.fail(w, r, s, http.StatusConflict, "Chưa có thông tin cơ quan ban hành",
			"Sự kiện «"+ev.NameVI+"» chưa có mục invitation trong event.yaml (cơ quan ban hành, số/ký hiệu, người ký) hay phần «Giấy mời» khi tạo trên trang Sự kiện, nên chưa in được giấy mời.")
		return
	case errors.Is(err, papers.ErrNobody):
		c.fail(w, r, s, http.StatusNotFound, "Không có ai để in", "Danh sách này chưa có đại biểu nào.")
		return
	case err != nil:
		c.oops(w, r, s, "paper "+kind, err)
		return
	}
	c.audit(r.Context(), s.Person.ID, "export", kind+" "+name)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// seats are the expected attendees of an event in protocol order.
func (c *Console) seats(ctx context.Context, rec domain.EventRecord) ([]papers.Seat, error) {
	rsvps, _, err := c.eventAnswers(ctx, rec.Event.ID)
	if err != nil {
		return nil, err
	}
	return papers.Attendees(eventPeople(rec, c.cfg.Directory()), rsvps, func(p domain.Person, a domain.Agency, forName string) papers.Invitee {
		return papers.NewInvitee(p, a, forName, c.cfg.PublicURL, c.cfg.BotUsername())
	}), nil
}

type seatRow struct {
	papers.Seat
	No     int
	Group  string
	Answer string
}

// serveSeating lists the seating order on a page, with the PDFs.
func (c *Console) serveSeating(w http.ResponseWriter, r *http.Request, s *session) {
	rec, _, err := c.viewedEvent(w, r)
	if err != nil {
		c.oops(w, r, s, "seating", err)
		return
	}
	seats, err := c.seats(r.Context(), rec)
	if err != nil {
		c.oops(w, r, s, "seating", err)
		return
	}
	rows := make([]seatRow, len(seats))
	for i, st := range seats {
		rows[i] = seatRow{Seat: st, No: i + 1, Group: papers.RankLabel(st.Rank), Answer: papers.StatusLabel(st.Status)}
	}
	c.render(w, r, s, http.StatusOK, "seating", "Xếp chỗ theo nghi thức", rows)
}
