package flows

import (
	"fmt"

	"github.com/dieuphoi/dieuphoi/domain"
)

// Countdown says how far a date is, counted by domain.DaysUntil: "hôm nay",
// "ngày mai", "còn 20 ngày", "hôm qua", "3 ngày trước". The console, the
// chat and the reminders use this one wording for one rule.
func Countdown(lang domain.Lang, days int) string {
	en := lang == domain.English
	switch {
	case days == 0 && en:
		return "today"
	case days == 0:
		return "hôm nay"
	case days == 1 && en:
		return "tomorrow"
	case days == 1:
		return "ngày mai"
	case days == -1 && en:
		return "yesterday"
	case days == -1:
		return "hôm qua"
	case days > 1 && en:
		return fmt.Sprintf("%d days left", days)
	case days > 1:
		return fmt.Sprintf("còn %d ngày", days)
	case en:
		return fmt.Sprintf("%d days ago", -days)
	}
	return fmt.Sprintf("%d ngày trước", -days)
}
