package ui_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_WorkflowEditor checks in a real browser that the rule
// editor shows only the inputs of the chosen trigger and action type, with
// its script allowed by the page's security policy.
func TestBrowser_WorkflowEditor(t *testing.T) {
	e := mustServer(t)
	e.mustSetupAdmin()
	c := mustBrowser(t)
	c.base = e.srv.URL
	c.login("anna@example.com", "contrasenya-segura")
	c.open("/settings/workflows/new?entity=opportunities")
	c.assertNoConsoleErrors("opening the editor")
	visible := func(sel string) bool {
		return eval[bool](c, `(function(){var el=document.querySelector('`+sel+`'); return !!el && !el.closest('[hidden]');})()`)
	}
	if visible("#wf-delay") || visible("#wf-cfield") {
		t.Error("a new rule (record created) shows the delay or field inputs")
	}
	c.step("choosing an inactivity trigger", chromedp.SetValue("#wf-trigger", "inactive"))
	eval[bool](c, `document.getElementById('wf-trigger').dispatchEvent(new Event('change'))`)
	if !visible("#wf-delay") || !visible("#wf-what") || visible("#wf-cfield") || visible("#wf-event") {
		t.Error("the inactivity trigger does not show exactly its inputs")
	}
	c.step("choosing a task action", chromedp.SetValue("#a0-type", "create_task"))
	eval[bool](c, `document.getElementById('a0-type').dispatchEvent(new Event('change'))`)
	if !visible("#a0-title") || !visible("#a0-due") || visible("#a0-tpl") || visible("#a0-tag") {
		t.Error("the task action does not show exactly its inputs")
	}
	c.assertNoConsoleErrors("using the editor")
}
