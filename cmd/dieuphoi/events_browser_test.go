package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dieuphoi/dieuphoi/internal/testenv"
)

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func chromeDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// poll waits until the JavaScript expression is true.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	var err error
	for range 5 { // a page loading meanwhile ends the poll: poll the new page
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))); err == nil ||
			!strings.Contains(err.Error(), "-32000") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + document.body.innerText`))
		t.Fatalf("waiting for %s: %v\n%s", what, err, state)
	}
}

// chatTap clicks the newest web chat button with this payload.
func chatTap(t *testing.T, ctx context.Context, payload string) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('#log .btn[data-payload]')].filter(x => x.dataset.payload === %s).pop(); if (!b) return false; b.click(); return true; })()`, js(payload))
	poll(t, ctx, "button "+payload, expr)
}

func chatSays(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	poll(t, ctx, "the bot saying "+text, fmt.Sprintf(`[...document.querySelectorAll('#log .bubble.bot')].slice(-3).some(b => b.textContent.includes(%s))`, js(text)))
}

// In Chromium: a staff member creates an event in the console, invites an
// agency's delegates on the form and another agency's on the event's page,
// and sees the answer a delegate gives in the web chat arrive.
func TestBrowserConsoleCreatesEventAndSeesRSVP(t *testing.T) {
	u, _ := startRun(t, baseEnv(t))

	// The staff member, in the demo web chat, asks for the console.
	staff := testenv.Browser(t, 1280, 900, 90*time.Second)
	chromeDo(t, staff, "open the chat", chromedp.Navigate(u+"/chat"), chromedp.WaitVisible(chromedp.ID("picker")),
		chromedp.Click(chromedp.CSS(`.person[data-person="DB090"]`)))
	chatSays(t, staff, "Trạng thái của anh/chị")
	chromeDo(t, staff, "/dangnhap", chromedp.SendKeys(chromedp.ID("msg"), "/dangnhap"), chromedp.Click(chromedp.ID("send")))
	poll(t, staff, "the sign-in link", `!!document.querySelector('#log a[href*="/admin/signin/"]')`)
	link, err := chromedp.Run(staff, chromedp.Evaluate[string](`[...document.querySelectorAll('#log a[href*="/admin/signin/"]')].pop().href`))
	if err != nil {
		t.Fatal(err)
	}
	// The link is made for the configured public address; here the server
	// is wherever the test started it.
	_, path, ok := strings.Cut(link, "/admin/signin/")
	if !ok {
		t.Fatalf("sign-in link %q", link)
	}
	link = u + "/admin/signin/" + path
	chromeDo(t, staff, "sign in", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("signin")), chromedp.Click(chromedp.ID("signin")))
	poll(t, staff, "the overview", `location.pathname === '/admin/'`)

	// Create the event; the form first refused without an agenda.
	chromeDo(t, staff, "events page", chromedp.Navigate(u+"/admin/events"), chromedp.WaitVisible(chromedp.ID("new-event")))
	fill := `(() => { const f = document.getElementById('new-event');
		const set = (n, v) => { f.querySelector('[name=' + n + ']').value = v; };
		set('code', 'HD2024'); set('name_vi', 'Hội đồng tư vấn xác định nhiệm vụ KH&CN'); set('date', '2024-08-05');
		set('doors', '13:45'); set('start', '14:00'); set('end', '16:30'); set('venue', 'Phòng họp tầng 3, Sở KH&CN'); set('address', '437 Nguyễn Văn Linh, Hưng Yên');
		set('cutoff', '2024-08-04T12:00'); set('agenda', %s);
		f.querySelector('input[name=agency][value=UBND]').checked = true; return true; })()`
	if _, err := chromedp.Run(staff, chromedp.Evaluate[bool](fmt.Sprintf(fill, js("")))); err != nil {
		t.Fatal(err)
	}
	chromeDo(t, staff, "submit without agenda", chromedp.Click(chromedp.CSS(`#new-event button[type=submit]`)))
	poll(t, staff, "the refusal", `!!document.getElementById('event-errors') && document.getElementById('event-errors').innerText.includes('Chương trình: cần ít nhất một mục')`)
	if _, err := chromedp.Run(staff, chromedp.Evaluate[bool](fmt.Sprintf(fill, js("14:00-16:00 Thẩm định thuyết minh nhiệm vụ | Chủ tịch Hội đồng")))); err != nil {
		t.Fatal(err)
	}
	chromeDo(t, staff, "create", chromedp.Click(chromedp.CSS(`#new-event button[type=submit]`)))
	poll(t, staff, "the event's page", `location.pathname === '/admin/events/hd2024' && !!document.querySelector('#invitees tr[data-person=DB001]')`)

	// Invite another agency's delegates on the event's page.
	chromeDo(t, staff, "add invitees", chromedp.Click(chromedp.CSS(`#add-invitees input[value=SKHCN]`)),
		chromedp.Click(chromedp.CSS(`#add-invitees button[type=submit]`)))
	poll(t, staff, "SKHCN invited", `!!document.querySelector('#invitees tr[data-person=DB090]') && document.querySelector('.flash') !== null`)
	if n, _ := chromedp.Run(staff, chromedp.Evaluate[int](`document.querySelectorAll('#invitees tr[data-person=DB001]').length`)); n != 1 {
		t.Errorf("DB001 listed %d times after inviting more", n)
	}

	// Phan Thị Giang (UBND) answers in the web chat: she is invited to the
	// conference and the council, picks the council and accepts.
	delegate := testenv.Browser(t, 390, 844, 90*time.Second)
	chromeDo(t, delegate, "open the chat", chromedp.Navigate(u+"/chat"), chromedp.WaitVisible(chromedp.ID("picker")),
		chromedp.Click(chromedp.CSS(`.person[data-person="DB001"]`)))
	chatSays(t, delegate, "được mời dự 2 sự kiện")
	chatTap(t, delegate, "ev:HD2024")
	chatSays(t, delegate, "Hội đồng tư vấn xác định nhiệm vụ KH&CN")
	chatTap(t, delegate, "rsvp:attend:HD2024")
	chatSays(t, delegate, "Đã ghi nhận: anh/chị sẽ tham dự")

	// The answer arrives on the event's page; the conference keeps none.
	chromeDo(t, staff, "reload", chromedp.Navigate(u+"/admin/events/hd2024"), chromedp.WaitVisible(chromedp.ID("invitees")))
	got, err := chromedp.Run(staff, chromedp.Evaluate[string](`document.querySelector('#invitees tr[data-person=DB001] .answer').innerText`))
	if err != nil || strings.TrimSpace(got) != "Tham dự" {
		t.Errorf("DB001's answer on the council's page: %q %v", got, err)
	}
	// The event's archive: one ZIP with the event, every answer, the
	// check-ins and the audit entries about it.
	if _, err := chromedp.Run(staff, chromedp.Evaluate[bool](`(() => { window.zipText = ''; fetch(document.getElementById('event-archive').href).then(r => r.arrayBuffer()).then(b => { window.zipText = new TextDecoder('latin1').decode(b); }); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	poll(t, staff, "the archive", `window.zipText.startsWith('PK') && ['su-kien.json', 'tra-loi.csv', 'diem-danh.csv', 'nhat-ky.csv'].every(n => window.zipText.includes(n))`)
	chromeDo(t, staff, "the list", chromedp.Navigate(u+"/admin/events"), chromedp.WaitVisible(chromedp.ID("events")))
	row, _ := chromedp.Run(staff, chromedp.Evaluate[string](`document.querySelector('#events tr[data-event=pii-2024]').innerText`))
	if !strings.Contains(row, "Đang nhận xác nhận") {
		t.Errorf("the conference's row: %q", row)
	}
	council, _ := chromedp.Run(staff, chromedp.Evaluate[string](`document.querySelector('#events tr[data-event=hd2024]').innerText`))
	if !strings.Contains(council, "sắp tới") {
		t.Errorf("the council's row: %q", council)
	}
}
