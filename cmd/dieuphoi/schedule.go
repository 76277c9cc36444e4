package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/dieuphoi/dieuphoi/bot"
	"github.com/dieuphoi/dieuphoi/domain"
	"github.com/dieuphoi/dieuphoi/flows"
	"github.com/dieuphoi/dieuphoi/scheduler"
)

// planOnly stands for a configured channel when the scheduler only plans:
// recipients on it count as reachable; it is never asked to send.
type planOnly struct{}

func (planOnly) Send(context.Context, string, []flows.Reply) error {
	return errors.New("planning only: nothing is sent")
}

// planSenders are the channels serve would have with these settings.
func planSenders(s settings) map[domain.Channel]bot.Sender {
	m := map[domain.Channel]bot.Sender{domain.Web: planOnly{}}
	if s.TelegramToken != "" {
		m[domain.Telegram] = planOnly{}
	}
	if s.Zalo.AppID != "" {
		m[domain.Zalo] = planOnly{}
	}
	return m
}

// runSchedule prints the reminders of the coming days (when, to how many,
// the text) and what was sent or skipped and why.
func runSchedule(ctx context.Context, s settings, args []string, stdout io.Writer, log *slog.Logger) error {
	days := 14
	if len(args) > 1 {
		return errors.New("usage: dieuphoi schedule [days ahead, default 14]")
	}
	if len(args) == 1 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 366 {
			return fmt.Errorf("dieuphoi schedule: %q is not a number of days (1–366)", args[0])
		}
		days = n
	}
	_, schedule, err := loadConfig(s)
	if err != nil {
		return err
	}
	sy, err := openSynced(ctx, s)
	if err != nil {
		return err
	}
	defer sy.store.Close()
	outbox, ok := sy.store.(scheduler.Outbox)
	if !ok {
		return errors.New("the database cannot keep the outbox")
	}
	start := s.ClockStart
	if start.IsZero() && s.ConfigDir == "" && time.Now().After(sy.campaign.Event.RSVPCutoff) {
		start = sy.campaign.Event.Start.AddDate(0, 0, -7) // as serve does
	}
	now := demoClock(ctx, sy.store, start, slog.New(slog.DiscardHandler))()
	var progress scheduler.Progress
	if sy.catalog != nil {
		progress = scheduler.CampaignProgress(sy.catalog, sy.cs)
	}
	ev := sy.campaign.Event
	dir := sy.dir
	docs, _ := sy.store.(scheduler.MeetingDocs) // the meeting's documents are listed too
	others, err := otherEvents(sy.store, ev.ID)
	if err != nil {
		return err
	}
	// Every open campaign's reminders are listed, as serve sends them.
	var campaigns func(context.Context, time.Time) ([]scheduler.Config, error)
	if _, tag := exportNames(sy.campaign); tag != "" && sy.catalog != nil {
		es, err := asEventStore(sy.store)
		if err != nil {
			return err
		}
		campaigns = openCampaigns(es, newChatCampaigns(es, tag), sy.cs, func() *domain.Catalog { return sy.catalog })
	}
	sch, err := scheduler.New(scheduler.Config{Store: sy.store, Outbox: outbox, Senders: planSenders(s), Event: &ev,
		Directory: func() *domain.Directory { return dir }, Schedule: schedule, Progress: progress,
		Now: func() time.Time { return now }, Log: log, EventKey: ev.ID, Meeting: docs, Plan: planStore(sy.store), Events: others,
		Campaigns: campaigns})
	if err != nil {
		return err
	}
	return printSchedule(ctx, sch, now, now.AddDate(0, 0, days), stdout)
}

func printSchedule(ctx context.Context, sch *scheduler.Scheduler, from, to time.Time, w io.Writer) error {
	loc := sch.Location()
	when := func(t time.Time) string { return t.In(loc).Format("15:04 02/01/2006") }
	plan, err := sch.Upcoming(ctx, from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Nhắc nhở sắp gửi, từ %s đến %s (giờ %s):\n", when(from), when(to), loc)
	if len(plan) == 0 {
		fmt.Fprintln(w, "  (không có)")
	}
	for _, p := range plan {
		fmt.Fprintf(w, "%s  %s — %d người nhận, %d có kênh nhận tin\n", when(p.At), p.Label, p.Recipients, p.Reachable)
		if p.Preview != "" {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(p.Preview, "\n", "\n    "))
		}
	}
	done, err := sch.History(ctx, 60)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nĐã xử lý (mới nhất trước):")
	if len(done) == 0 {
		fmt.Fprintln(w, "  (chưa có)")
	}
	for _, d := range done {
		line := fmt.Sprintf("%s  %s — %s: %d", when(d.At), d.Label, scheduler.StatusText(d.Status), d.Count)
		if d.Reason != "" {
			line += " (" + d.Reason + ")"
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
