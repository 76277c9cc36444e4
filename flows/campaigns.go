package flows

import (
	"maps"
	"strings"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Several data campaigns (Facts.Campaigns): a focal point whose agency
// supplies indicators in more than one open campaign chooses which one the
// chat is about, and every list, entry, submission and history is then that
// campaign's; staff choose in the same way which campaign /duyet, /chuanop
// and /xuat are about. The choice is kept in the session (Session.Campaign,
// by id) and changed with /chiendich or the list's button.
const (
	btnCampaignPrefix = "cp:"      // + campaign id: the chat is about that campaign
	btnCampaigns      = "menu:cps" // the list of open campaigns
)

// CampaignFor is the campaign a step is about, among those offered (open
// ones, Facts.Campaigns): the one this input's button picks, else the
// session's choice while it is still offered, else the only one offered.
// It is "" when none is offered (the store's current campaign) or when
// several are and none is chosen yet: a focal point is then asked, staff
// work on the current one. The bot layer calls it to read that campaign's
// data before the step, the step to know what it reads.
func CampaignFor(s Session, in Input, offered []domain.CampaignRecord) string {
	if in.Kind == InButton {
		if id, ok := strings.CutPrefix(in.Data, btnCampaignPrefix); ok && offeredCampaign(offered, id) {
			return id
		}
	}
	if s.Campaign != "" && offeredCampaign(offered, s.Campaign) {
		return s.Campaign
	}
	if len(offered) == 1 {
		return offered[0].ID
	}
	return ""
}

// CampaignButton is the data of a button that opens campaign id in the
// chat (a reminder about another campaign carries it); the choice is
// checked as /chiendich's is.
func CampaignButton(id string) string { return btnCampaignPrefix + id }

func offeredCampaign(list []domain.CampaignRecord, id string) bool {
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

// multiCampaign reports whether this person has several open campaigns to
// choose from.
func (r *stepper) multiCampaign() bool { return len(r.f.Campaigns) > 1 }

// selectCampaign keeps the session's choice only while it is offered: a
// campaign closed or archived since is forgotten, and the person chooses
// again.
func (r *stepper) selectCampaign() {
	if r.s.Campaign != "" && !offeredCampaign(r.f.Campaigns, r.s.Campaign) {
		r.s.Campaign = ""
		if r.inEntry() || r.s.State == stateRevComment {
			r.reset() // the half-entered item was that campaign's
		}
	}
}

// needsCampaign says whether a focal point must choose a campaign before
// their indicators can be shown, and asks them when so.
func (r *stepper) needsCampaign() bool {
	if !r.multiCampaign() || r.s.Campaign != "" || !r.isFocal() {
		return false
	}
	r.reset()
	r.campaignsCard()
	return true
}

// campaignName is the name of the campaign the chat is about, "" when
// there is only one.
func (r *stepper) campaignName() string {
	if !r.multiCampaign() {
		return ""
	}
	for _, c := range r.f.Campaigns {
		if c.ID == r.f.CampaignID {
			return c.Name(r.s.Lang)
		}
	}
	return ""
}

// campaignsCard lists the open campaigns, the one the chat is about marked,
// one button each.
func (r *stepper) campaignsCard() {
	if len(r.f.Campaigns) < 2 {
		name := r.campaignName()
		if len(r.f.Campaigns) == 1 {
			name = r.f.Campaigns[0].Name(r.s.Lang)
		}
		if name == "" {
			r.say(r.t("campaign_only_one"), r.menuButtons()...)
			return
		}
		r.say(r.t("campaign_only", name), r.menuButtons()...)
		return
	}
	lines := []string{r.t("campaigns_head", len(r.f.Campaigns))}
	var rows [][]Button
	for i, c := range r.f.Campaigns {
		mark := ""
		if c.ID == r.f.CampaignID && (r.s.Campaign != "" || !r.isFocal()) {
			mark = " ✓"
		}
		line := r.t("campaigns_line", i+1, c.Name(r.s.Lang), mark)
		if !c.Deadline.IsZero() {
			line += "\n    " + r.t("campaigns_deadline", r.dateTime(c.Deadline))
		}
		lines = append(lines, line)
		rows = append(rows, []Button{{clip(c.Name(r.s.Lang), 40) + mark, btnCampaignPrefix + c.ID}})
	}
	lines = append(lines, "", r.t("campaigns_pick"))
	r.say(strings.Join(lines, "\n"), rows...)
}

// campaignCommand is /chiendich: the list of open campaigns to choose from.
func (r *stepper) campaignCommand() {
	r.reset()
	if !r.isFocal() && !r.isStaff() {
		if r.needsProof(domain.RoleFocal) {
			return
		}
		r.say(r.t("not_focal", r.helpdesk()), r.menuButtons()...)
		return
	}
	r.campaignsCard()
}

// campaignChoice handles the campaign buttons; false when the input is not
// one.
func (r *stepper) campaignChoice() bool {
	d := r.in.Data
	switch {
	case d == btnCampaigns:
		r.campaignCommand()
		return true
	case strings.HasPrefix(d, btnCampaignPrefix):
		id := strings.TrimPrefix(d, btnCampaignPrefix)
		r.reset()
		if !r.isFocal() && !r.isStaff() {
			r.say(r.t("stale_button"))
			r.menu()
			return true
		}
		if !offeredCampaign(r.f.Campaigns, id) || r.f.CampaignID != id {
			r.say(r.t("campaign_gone"))
			r.s.Campaign = ""
			r.campaignsCard()
			return true
		}
		r.s.Campaign = id
		r.say(r.t("campaign_set", r.campaignName()))
		if r.isFocal() {
			r.indicatorList()
		} else {
			r.say(r.t("staff_menu"), r.menuButtons()...)
		}
		return true
	}
	return false
}

func init() {
	maps.Copy(catalogs[domain.Vietnamese], map[msg]string{
		"campaigns_head":     "Có %d đợt thu thập số liệu đang mở:",
		"campaigns_line":     "%d. %s%s",
		"campaigns_deadline": "⏰ Hạn chung: %s",
		"campaigns_pick":     "Anh/chị làm việc với đợt nào? (đổi lại bất cứ lúc nào bằng /chiendich)",
		"campaign_set":       "🗂 Đang làm việc với đợt: %s.",
		"campaign_gone":      "Đợt số liệu này không còn mở. Xin chọn lại.",
		"campaign_only":      "Hiện chỉ có một đợt số liệu đang mở: %s.",
		"campaign_only_one":  "Hiện không có đợt số liệu nào khác để chọn.",
		"campaign_line":      "🗂 Đợt: %s",
		"btn_campaigns":      "🗂 Đổi đợt số liệu",
		"help_campaign":      "/chiendich — chọn đợt số liệu (chỉ số, duyệt, xuất)",
	})
	maps.Copy(catalogs[domain.English], map[msg]string{
		"campaigns_head":     "%d data campaigns are open:",
		"campaigns_line":     "%d. %s%s",
		"campaigns_deadline": "⏰ Deadline: %s",
		"campaigns_pick":     "Which one are you working on? (change any time with /campaign)",
		"campaign_set":       "🗂 Working on: %s.",
		"campaign_gone":      "This data campaign is no longer open. Please choose again.",
		"campaign_only":      "Only one data campaign is open: %s.",
		"campaign_only_one":  "There is no other data campaign to choose.",
		"campaign_line":      "🗂 Campaign: %s",
		"btn_campaigns":      "🗂 Switch campaign",
		"help_campaign":      "/campaign — choose the data campaign (indicators, review, export)",
	})
}
