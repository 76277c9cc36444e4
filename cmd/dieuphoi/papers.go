package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/papers"
)

// paperKinds are the `dieuphoi export` kinds that print papers; the value
// says whether the kind takes an argument (a person id, an agency code).
var paperKinds = map[string]bool{"invitation": true, "invitations": true, "badges": false, "seating": false}

// runPapers writes a giấy mời (one person's, or an agency's merged), the
// badges or the seating list as PDF. The chat QR is the web chat link: the
// command line does not ask Telegram for the bot's name.
func runPapers(ctx context.Context, s settings, kind string, args []string, stdout io.Writer) error {
	const usage = "usage: dieuphoi export invitation PERSON_ID [file], invitations AGENCY [file], badges [file] or seating [file]"
	arg := ""
	if paperKinds[kind] {
		if len(args) == 0 {
			return errors.New(usage)
		}
		arg, args = args[0], args[1:]
	}
	if len(args) > 1 {
		return errors.New(usage)
	}
	sy, err := openSynced(ctx, s)
	if err != nil {
		return err
	}
	defer sy.store.Close()
	dir, ev := sy.dir, sy.campaign.Event
	forName := func(p domain.Person) string {
		if d, ok := dir.Person(p.SubstituteFor); ok && p.SubstituteFor != "" {
			return d.FullName
		}
		return ""
	}
	invitee := func(p domain.Person, a domain.Agency, f string) papers.Invitee {
		return papers.NewInvitee(p, a, f, s.PublicURL, "")
	}
	guest := func(p domain.Person) bool {
		return p.Has(domain.RoleDelegate) || (p.SubstituteFor != "" && p.Has(domain.RoleSubstitute))
	}
	var data []byte
	switch kind {
	case "invitation":
		p, ok := dir.Person(arg)
		if !ok || !guest(p) {
			return fmt.Errorf("no delegate with id %q in the list", arg)
		}
		a, _ := dir.Agency(p.AgencyCode)
		data, err = papers.Invitations(ev, []papers.Invitee{invitee(p, a, forName(p))}, time.Now())
	case "invitations":
		a, ok := dir.Agency(arg)
		if !ok {
			return fmt.Errorf("no agency %q in the configuration", arg)
		}
		var list []papers.Invitee
		for _, p := range dir.People() {
			if p.AgencyCode == arg && guest(p) {
				list = append(list, invitee(p, a, forName(p)))
			}
		}
		data, err = papers.Invitations(ev, list, time.Now())
	default:
		rsvps, rerr := sy.store.CurrentRSVPs(ctx)
		if rerr != nil {
			return fmt.Errorf("read answers: %w", rerr)
		}
		seats := papers.Attendees(dir, rsvps, invitee)
		if kind == "badges" {
			data, err = papers.Badges(ev, seats)
		} else {
			data, err = papers.SeatingList(ev, seats)
		}
	}
	switch {
	case errors.Is(err, papers.ErrNoIssuer):
		return errors.New("event.yaml has no invitation: section (issuing body, số/ký hiệu, signer); see configs/example/event.yaml")
	case errors.Is(err, papers.ErrNobody):
		return errors.New("there is no one to print for")
	case err != nil:
		return err
	}
	return writeOut(data, args, stdout)
}

// writeOut writes data to the file named in args, or to stdout.
func writeOut(data []byte, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		_, err := stdout.Write(data)
		return err
	}
	if err := os.WriteFile(args[0], data, 0o640); err != nil {
		return fmt.Errorf("write %s: %w", args[0], err)
	}
	fmt.Fprintf(stdout, "Đã ghi %s (%d byte).\n", args[0], len(data))
	return nil
}
