package ui

import (
	"net/http"
	"net/http/pprof"

	"github.com/gorilla/mux"

	"cartera/dav"
	"cartera/store"
)

// entityPattern matches the record types in URLs.
const entityPattern = "accounts|contacts|leads|opportunities|activities|tasks|cases"

// Request body limits: forms and API calls are small; uploads get their own.
const (
	maxFormBody = 1 << 20
	maxAPIBody  = 1 << 20
)

// routes registers every route of the application in one place. State
// changes are accepted only with POST/PUT/PATCH/DELETE, and cross-origin
// browser writes are refused by net/http's CrossOriginProtection.
func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	s.router = r
	r.Handle("/static/{file:.+}", s.static).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.static.url("favicon.svg"), http.StatusMovedPermanently)
	}).Methods(http.MethodGet, http.MethodHead)

	// The API reference is public, so tools and people can read it first.
	r.HandleFunc("/api/v1/openapi.json", s.apiOpenAPI).Methods(http.MethodGet)
	// CardDAV and the calendar feed (ui/calendar.go, package dav): clients
	// that are not browsers, authenticated by an app password or a feed
	// secret rather than the session cookie. They stay behind
	// CrossOriginProtection: sync clients send no Origin or Sec-Fetch-Site
	// header and pass, while a browser page elsewhere cannot make a visitor's
	// browser write with Basic credentials it cached.
	cardDAV := dav.NewCardDAV(s.st)
	r.PathPrefix(dav.Prefix + "/").Handler(cardDAV)
	r.Handle("/.well-known/carddav", cardDAV)
	r.HandleFunc("/ical/{secret:[A-Za-z0-9_-]{20,100}}.ics", s.calendarFeed).Methods(http.MethodGet, http.MethodHead)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(s.apiAuth, s.apiRateLimit())
	api.HandleFunc("/me", s.apiMe).Methods(http.MethodGet)
	api.HandleFunc("/me", s.apiMethodNotAllowed)
	api.HandleFunc("/search", s.apiSearch).Methods(http.MethodGet)
	api.HandleFunc("/tags", s.apiTags).Methods(http.MethodGet)
	api.HandleFunc("/reports/custom", s.apiReportCustom).Methods(http.MethodGet)
	// Standard reports and goals (ui/reports.go, ui/goals.go); /reports/custom
	// above is registered first so it never reads as a report key.
	api.HandleFunc("/reports", s.apiReports).Methods(http.MethodGet)
	// Saved custom reports and dashboards (ui/report_builder.go, ui/dashboards.go).
	api.HandleFunc("/reports", s.apiSavedReportCreate).Methods(http.MethodPost)
	api.HandleFunc("/reports/saved/{id:[0-9]+}", s.apiSavedReportRun).Methods(http.MethodGet)
	api.HandleFunc("/dashboard", s.apiDashboard).Methods(http.MethodGet)
	api.HandleFunc("/dashboard", s.apiDashboardPut).Methods(http.MethodPut)
	api.HandleFunc("/reports/{key:[a-z_]+}", s.apiReportStandard).Methods(http.MethodGet)
	api.HandleFunc("/goals", s.apiGoals).Methods(http.MethodGet)
	api.HandleFunc("/goals", s.apiGoalCreate).Methods(http.MethodPost)
	api.HandleFunc("/outbox", s.apiOutbox).Methods(http.MethodGet)
	api.HandleFunc("/inbox", s.apiInbox).Methods(http.MethodGet)
	api.HandleFunc("/templates", s.apiTemplates).Methods(http.MethodGet)
	api.HandleFunc("/notifications", s.apiNotifications).Methods(http.MethodGet)
	api.HandleFunc("/notifications/read", s.apiNotificationsRead).Methods(http.MethodPost)
	api.HandleFunc("/templates", s.apiTemplateCreate).Methods(http.MethodPost)
	api.HandleFunc("/workflows", s.apiWorkflows).Methods(http.MethodGet)
	api.HandleFunc("/workflows", s.apiWorkflowCreate).Methods(http.MethodPost)
	api.HandleFunc("/workflows/{id:[0-9]+}", s.apiWorkflowGet).Methods(http.MethodGet)
	api.HandleFunc("/workflows/{id:[0-9]+}", s.apiWorkflowUpdate).Methods(http.MethodPatch)
	api.HandleFunc("/workflows/{id:[0-9]+}", s.apiWorkflowDelete).Methods(http.MethodDelete)
	api.HandleFunc("/workflows/{id:[0-9]+}/runs", s.apiWorkflowRuns).Methods(http.MethodGet)
	api.HandleFunc("/workflows/{id:[0-9]+}/test", s.apiWorkflowTest).Methods(http.MethodPost)
	// Webhooks (ui/webhooks.go) and upsert by external id (ui/api_sync.go).
	api.HandleFunc("/webhooks", s.apiWebhooks).Methods(http.MethodGet)
	api.HandleFunc("/webhooks", s.apiWebhookCreate).Methods(http.MethodPost)
	api.HandleFunc("/webhooks/{id:[0-9]+}", s.apiWebhookDelete).Methods(http.MethodDelete)
	api.HandleFunc("/webhooks/{id:[0-9]+}/deliveries", s.apiWebhookDeliveries).Methods(http.MethodGet)
	api.HandleFunc("/webhooks/{id:[0-9]+}/deliveries/{delivery_id:[0-9]+}/resend", s.apiWebhookResend).Methods(http.MethodPost)
	api.HandleFunc("/{entity:accounts|contacts|leads|opportunities}/external/{system:[a-z0-9][a-z0-9_.-]{0,39}}/{external_id}", s.apiUpsertExternal).Methods(http.MethodPut)
	// Marketing: segments and campaigns (ui/api_marketing.go).
	api.HandleFunc("/segments", s.apiSegments).Methods(http.MethodGet)
	api.HandleFunc("/segments", s.apiSegmentCreate).Methods(http.MethodPost)
	api.HandleFunc("/segments/{id:[0-9]+}", s.apiSegmentGet).Methods(http.MethodGet)
	api.HandleFunc("/segments/{id:[0-9]+}/members", s.apiSegmentMembers).Methods(http.MethodGet)
	api.HandleFunc("/segments/{id:[0-9]+}/members", s.apiSegmentMembersChange).Methods(http.MethodPost)
	api.HandleFunc("/campaigns", s.apiCampaigns).Methods(http.MethodGet)
	api.HandleFunc("/campaigns", s.apiCampaignCreate).Methods(http.MethodPost)
	api.HandleFunc("/campaigns/{id:[0-9]+}", s.apiCampaignGet).Methods(http.MethodGet)
	api.HandleFunc("/campaigns/{id:[0-9]+}/stats", s.apiCampaignStats).Methods(http.MethodGet)
	api.HandleFunc("/campaigns/{id:[0-9]+}/{action:schedule|cancel|test}", s.apiCampaignAction).Methods(http.MethodPost)
	api.HandleFunc("/imports", s.apiImportCreate).Methods(http.MethodPost)
	api.HandleFunc("/imports/{id:[0-9]+}", s.apiImportGet).Methods(http.MethodGet)
	api.HandleFunc("/imports/{id:[0-9]+}/undo", s.apiImportUndo).Methods(http.MethodPost)
	api.HandleFunc("/leads/{id:[0-9]+}/convert", s.apiConvert).Methods(http.MethodPost)
	// Products and quotes (ui/products.go, ui/quotes.go).
	api.HandleFunc("/products", s.apiProducts).Methods(http.MethodGet)
	api.HandleFunc("/products", s.apiProductCreate).Methods(http.MethodPost)
	api.HandleFunc("/quotes", s.apiQuotes).Methods(http.MethodGet)
	api.HandleFunc("/quotes", s.apiQuoteCreate).Methods(http.MethodPost)
	api.HandleFunc("/quotes/{id:[0-9]+}", s.apiQuoteGet).Methods(http.MethodGet)
	api.HandleFunc("/quotes/{id:[0-9]+}", s.apiQuotePatch).Methods(http.MethodPatch)
	api.HandleFunc("/quotes/{id:[0-9]+}/pdf", s.apiQuotePDF).Methods(http.MethodGet)
	api.HandleFunc("/quotes/{id:[0-9]+}/send", s.apiQuoteSend).Methods(http.MethodPost)
	api.HandleFunc("/fields/{entity:"+entityPattern+"}", s.apiFieldsList).Methods(http.MethodGet)
	api.HandleFunc("/fields/{entity:"+entityPattern+"}", s.apiFieldCreate).Methods(http.MethodPost)
	api.HandleFunc("/fields/{entity:"+entityPattern+"}/{key}", s.apiFieldUpdate).Methods(http.MethodPatch)
	api.HandleFunc("/fields/{entity:"+entityPattern+"}/{key}", s.apiFieldDelete).Methods(http.MethodDelete)
	// Privacy rights (ui/privacy.go).
	api.HandleFunc("/{entity:"+privacyEntityPattern+"}/{id:[0-9]+}/export", s.apiPrivacyExport).Methods(http.MethodGet)
	api.HandleFunc("/{entity:"+privacyEntityPattern+"}/{id:[0-9]+}/erase", s.apiPrivacyErase).Methods(http.MethodPost)
	// Files on records (ui/attachments.go).
	api.HandleFunc("/{entity:"+attachmentPattern+"}/{id:[0-9]+}/attachments", s.apiAttachments).Methods(http.MethodGet)
	api.HandleFunc("/{entity:"+attachmentPattern+"}/{id:[0-9]+}/attachments", s.apiAttachmentUpload).Methods(http.MethodPost)
	api.HandleFunc("/attachments/{id:[0-9]+}", s.apiAttachmentGet).Methods(http.MethodGet)
	api.HandleFunc("/attachments/{id:[0-9]+}", s.apiAttachmentRename).Methods(http.MethodPatch)
	api.HandleFunc("/attachments/{id:[0-9]+}", s.apiAttachmentDelete).Methods(http.MethodDelete)
	api.HandleFunc("/{entity:"+entityPattern+"}", s.apiList).Methods(http.MethodGet)
	api.HandleFunc("/{entity:"+entityPattern+"}", s.apiCreate).Methods(http.MethodPost)
	api.HandleFunc("/{entity:"+entityPattern+"}/{id:[0-9]+}", s.apiGet).Methods(http.MethodGet)
	api.HandleFunc("/{entity:"+entityPattern+"}/{id:[0-9]+}", s.apiUpdate).Methods(http.MethodPatch)
	api.HandleFunc("/{entity:"+entityPattern+"}/{id:[0-9]+}", s.apiDelete).Methods(http.MethodDelete)
	api.HandleFunc("/{entity:"+entityPattern+"}/{id:[0-9]+}/timeline", s.apiTimeline).Methods(http.MethodGet)
	api.NotFoundHandler = s.apiAuth(http.HandlerFunc(s.apiNotFound))
	api.MethodNotAllowedHandler = http.HandlerFunc(s.apiMethodNotAllowed)

	p := r.NewRoute().Subrouter()
	p.Use(s.pageContext)
	p.HandleFunc("/setup", s.setupForm).Methods(http.MethodGet)
	p.HandleFunc("/setup", s.setupSubmit).Methods(http.MethodPost)
	p.HandleFunc("/api/docs", s.apiDocs).Methods(http.MethodGet)
	p.HandleFunc("/login", s.loginForm).Methods(http.MethodGet)
	p.HandleFunc("/login", s.loginSubmit).Methods(http.MethodPost)
	p.HandleFunc("/logout", s.logout).Methods(http.MethodPost)
	p.HandleFunc("/language", s.setLanguage).Methods(http.MethodPost)
	p.Handle("/", s.authed(s.home)).Methods(http.MethodGet)

	// Public web forms: no login, framable, rate-limited (ui/webforms.go).
	wf := s.newWebForms()
	p.HandleFunc("/f/{slug:[a-z0-9-]+}", wf.show).Methods(http.MethodGet, http.MethodHead)
	p.HandleFunc("/f/{slug:[a-z0-9-]+}", wf.submit).Methods(http.MethodPost)
	p.HandleFunc("/f/{slug:[a-z0-9-]+}/thanks", wf.thanks).Methods(http.MethodGet, http.MethodHead)

	// Signed links of campaign e-mails: no login, rate-limited
	// (ui/marketing_public.go).
	ml, link := s.newPublicLinks(), "/{campaign:[0-9]+}/{record:[0-9]+}/{sig:[0-9a-f]{32}}"
	p.HandleFunc("/m/u"+link, ml.unsubscribeForm).Methods(http.MethodGet, http.MethodHead)
	p.HandleFunc("/m/u"+link, ml.unsubscribe).Methods(http.MethodPost)
	p.HandleFunc("/m/o"+link, ml.open).Methods(http.MethodGet, http.MethodHead)
	p.HandleFunc("/m/c"+link, ml.click).Methods(http.MethodGet, http.MethodHead)

	p.Handle("/profile", s.authed(s.profileForm)).Methods(http.MethodGet)
	p.Handle("/profile", s.authed(s.profileSubmit)).Methods(http.MethodPost)
	p.Handle("/profile/password", s.authed(s.profilePassword)).Methods(http.MethodPost)
	p.Handle("/profile/tokens", s.authed(s.profileTokenCreate)).Methods(http.MethodPost)
	p.Handle("/profile/tokens/{id:[0-9]+}/revoke", s.authed(s.profileTokenRevoke)).Methods(http.MethodPost)
	// Notifications and their preferences (ui/notifications.go).
	p.Handle("/profile/notifications", s.authed(s.profileNotifications)).Methods(http.MethodPost)
	p.Handle("/notifications", s.authed(s.notificationsPage)).Methods(http.MethodGet)
	p.Handle("/notifications/read", s.authed(s.notificationsRead)).Methods(http.MethodPost)

	p.Handle("/settings", s.authed(s.settingsIndex)).Methods(http.MethodGet)
	p.Handle("/settings/company", s.requireCap(store.CapSettings, s.companyForm)).Methods(http.MethodGet)
	p.Handle("/settings/company", s.requireCap(store.CapSettings, s.companySubmit)).Methods(http.MethodPost)
	p.Handle("/settings/users", s.requireCap(store.CapUsers, s.usersList)).Methods(http.MethodGet)
	p.Handle("/settings/users/new", s.requireCap(store.CapUsers, s.userNewForm)).Methods(http.MethodGet)
	p.Handle("/settings/users", s.requireCap(store.CapUsers, s.userCreate)).Methods(http.MethodPost)
	p.Handle("/settings/users/{id:[0-9]+}", s.requireCap(store.CapUsers, s.userEditForm)).Methods(http.MethodGet)
	p.Handle("/settings/users/{id:[0-9]+}", s.requireCap(store.CapUsers, s.userUpdate)).Methods(http.MethodPost)
	p.Handle("/settings/users/{id:[0-9]+}/password", s.requireCap(store.CapUsers, s.userPassword)).Methods(http.MethodPost)
	p.Handle("/settings/users/{id:[0-9]+}/disable", s.requireCap(store.CapUsers, s.userDisable)).Methods(http.MethodPost)
	p.Handle("/settings/users/{id:[0-9]+}/enable", s.requireCap(store.CapUsers, s.userEnable)).Methods(http.MethodPost)
	p.Handle("/settings/users/{id:[0-9]+}/tokens/{token:[0-9]+}/revoke", s.requireCap(store.CapUsers, s.userTokenRevoke)).Methods(http.MethodPost)
	p.Handle("/settings/teams", s.requireCap(store.CapUsers, s.teamsList)).Methods(http.MethodGet)
	p.Handle("/settings/teams", s.requireCap(store.CapUsers, s.teamCreate)).Methods(http.MethodPost)
	p.Handle("/settings/teams/{id:[0-9]+}", s.requireCap(store.CapUsers, s.teamRename)).Methods(http.MethodPost)
	p.Handle("/settings/teams/{id:[0-9]+}/delete", s.requireCap(store.CapUsers, s.teamDelete)).Methods(http.MethodPost)
	// Public web forms' settings (ui/webforms.go).
	p.Handle("/settings/forms", s.requireCap(store.CapCustomize, s.webFormsList)).Methods(http.MethodGet)
	p.Handle("/settings/forms/new", s.requireCap(store.CapCustomize, s.webFormNew)).Methods(http.MethodGet)
	p.Handle("/settings/forms", s.requireCap(store.CapCustomize, s.webFormCreate)).Methods(http.MethodPost)
	p.Handle("/settings/forms/{id:[0-9]+}", s.requireCap(store.CapCustomize, s.webFormEdit)).Methods(http.MethodGet)
	p.Handle("/settings/forms/{id:[0-9]+}", s.requireCap(store.CapCustomize, s.webFormUpdate)).Methods(http.MethodPost)
	p.Handle("/settings/forms/{id:[0-9]+}/delete", s.requireCap(store.CapCustomize, s.webFormDelete)).Methods(http.MethodPost)
	p.Handle("/settings/roles", s.requireCap(store.CapRoles, s.rolesList)).Methods(http.MethodGet)
	p.Handle("/settings/roles/new", s.requireCap(store.CapRoles, s.roleNewForm)).Methods(http.MethodGet)
	p.Handle("/settings/roles", s.requireCap(store.CapRoles, s.roleCreate)).Methods(http.MethodPost)
	p.Handle("/settings/roles/{id:[0-9]+}", s.requireCap(store.CapRoles, s.roleEditForm)).Methods(http.MethodGet)
	p.Handle("/settings/roles/{id:[0-9]+}", s.requireCap(store.CapRoles, s.roleUpdate)).Methods(http.MethodPost)
	p.Handle("/settings/roles/{id:[0-9]+}/delete", s.requireCap(store.CapRoles, s.roleDelete)).Methods(http.MethodPost)
	p.Handle("/settings/audit", s.requireCap(store.CapAudit, s.auditList)).Methods(http.MethodGet)
	// Outgoing e-mail (ui/outbox.go).
	p.Handle("/settings/outbox", s.requireCap(store.CapSettings, s.outboxList)).Methods(http.MethodGet)
	p.Handle("/settings/outbox/test", s.requireCap(store.CapSettings, s.outboxTest)).Methods(http.MethodPost)
	p.Handle("/settings/outbox/{id:[0-9]+}/{action:retry|cancel}", s.requireCap(store.CapSettings, s.outboxAction)).Methods(http.MethodPost)
	// Webhooks (ui/webhooks.go).
	p.Handle("/settings/webhooks", s.requireCap(store.CapSettings, s.webhooksList)).Methods(http.MethodGet)
	p.Handle("/settings/webhooks", s.requireCap(store.CapSettings, s.webhookCreate)).Methods(http.MethodPost)
	p.Handle("/settings/webhooks/{id:[0-9]+}", s.requireCap(store.CapSettings, s.webhookDeliveries)).Methods(http.MethodGet)
	p.Handle("/settings/webhooks/{id:[0-9]+}/delete", s.requireCap(store.CapSettings, s.webhookDelete)).Methods(http.MethodPost)
	p.Handle("/settings/webhooks/{id:[0-9]+}/deliveries/{delivery_id:[0-9]+}/resend", s.requireCap(store.CapSettings, s.webhookResend)).Methods(http.MethodPost)
	p.Handle("/settings/getting-started", s.requireCap(store.CapSettings, s.checklistPage)).Methods(http.MethodGet)
	p.Handle("/settings/getting-started", s.requireCap(store.CapSettings, s.checklistDismiss)).Methods(http.MethodPost)
	// Customization (issue 5): fields, picklists, pipelines, activity rules.
	cz := func(h http.HandlerFunc) http.Handler { return s.requireCap(store.CapCustomize, h) }
	fe, fk := "/settings/fields/{entity:"+entityPattern+"}", "/custom/{key:[a-z][a-z0-9_]*}"
	p.Handle("/settings/fields", cz(s.fieldsIndex)).Methods(http.MethodGet)
	p.Handle(fe, cz(s.fieldsEntity)).Methods(http.MethodGet)
	p.Handle(fe+"/standard", cz(s.fieldsStandardSave)).Methods(http.MethodPost)
	p.Handle(fe+"/new", cz(s.fieldNewForm)).Methods(http.MethodGet)
	p.Handle(fe+"/custom", cz(s.fieldCreate)).Methods(http.MethodPost)
	p.Handle(fe+fk, cz(s.fieldEditForm)).Methods(http.MethodGet)
	p.Handle(fe+fk, cz(s.fieldUpdate)).Methods(http.MethodPost)
	p.Handle(fe+fk+"/remove", cz(s.fieldRemove)).Methods(http.MethodPost)
	p.Handle(fe+fk+"/restore", cz(s.fieldRestore)).Methods(http.MethodPost)
	p.Handle(fe+fk+"/purge", cz(s.fieldPurge)).Methods(http.MethodPost)
	p.Handle("/settings/picklists", cz(s.picklistsIndex)).Methods(http.MethodGet)
	p.Handle("/settings/picklists/{list:[a-z_]+}", cz(s.picklistForm)).Methods(http.MethodGet)
	p.Handle("/settings/picklists/{list:[a-z_]+}", cz(s.picklistSave)).Methods(http.MethodPost)
	p.Handle("/settings/pipelines", cz(s.pipelinesList)).Methods(http.MethodGet)
	p.Handle("/settings/pipelines", cz(s.pipelineCreate)).Methods(http.MethodPost)
	p.Handle("/settings/pipelines/{key:[a-z][a-z0-9_]*}", cz(s.pipelineUpdate)).Methods(http.MethodPost)
	p.Handle("/settings/pipelines/{key:[a-z][a-z0-9_]*}/stages", cz(s.stagesForm)).Methods(http.MethodGet)
	p.Handle("/settings/pipelines/{key:[a-z][a-z0-9_]*}/stages", cz(s.stagesSave)).Methods(http.MethodPost)
	p.Handle("/settings/activity-rules", cz(s.activityRules)).Methods(http.MethodGet)
	p.Handle("/settings/activity-rules", cz(s.activityRulesSave)).Methods(http.MethodPost)

	p.Handle("/settings/export", s.requireCap(store.CapSettings, s.exportAll)).Methods(http.MethodGet)
	// Privacy rights (ui/privacy.go): retention settings, a person's export and erasure.
	p.Handle("/settings/privacy", s.requireCap(store.CapPrivacy, s.privacySettings)).Methods(http.MethodGet)
	p.Handle("/settings/privacy", s.requireCap(store.CapPrivacy, s.privacySettingsSave)).Methods(http.MethodPost)
	p.Handle("/{entity:"+privacyEntityPattern+"}/{id:[0-9]+}/privacy", s.requireCap(store.CapPrivacy, s.privacyRecord)).Methods(http.MethodGet)
	p.Handle("/{entity:"+privacyEntityPattern+"}/{id:[0-9]+}/privacy/export.{format:json|html}", s.requireCap(store.CapPrivacy, s.privacyExport)).Methods(http.MethodGet)
	p.Handle("/{entity:"+privacyEntityPattern+"}/{id:[0-9]+}/privacy/erase", s.requireCap(store.CapPrivacy, s.privacyErase)).Methods(http.MethodPost)
	// Workflow rules (ui/workflows.go).
	p.Handle("/settings/workflows", s.requireCap(store.CapAutomation, s.workflowsList)).Methods(http.MethodGet)
	p.Handle("/settings/workflows", s.requireCap(store.CapAutomation, s.workflowSave)).Methods(http.MethodPost)
	p.Handle("/settings/workflows/new", s.requireCap(store.CapAutomation, s.workflowNew)).Methods(http.MethodGet)
	p.Handle("/settings/workflows/examples/{key}", s.requireCap(store.CapAutomation, s.workflowBuiltin)).Methods(http.MethodPost)
	p.Handle("/settings/workflows/{id:[0-9]+}", s.requireCap(store.CapAutomation, s.workflowEdit)).Methods(http.MethodGet)
	p.Handle("/settings/workflows/{id:[0-9]+}", s.requireCap(store.CapAutomation, s.workflowSave)).Methods(http.MethodPost)
	p.Handle("/settings/workflows/{id:[0-9]+}/enable", s.requireCap(store.CapAutomation, s.workflowEnableForm)).Methods(http.MethodGet)
	p.Handle("/settings/workflows/{id:[0-9]+}/{action:enable|disable}", s.requireCap(store.CapAutomation, s.workflowSwitch)).Methods(http.MethodPost)
	p.Handle("/settings/workflows/{id:[0-9]+}/delete", s.requireCap(store.CapAutomation, s.workflowDelete)).Methods(http.MethodPost)
	p.Handle("/settings/workflows/{id:[0-9]+}/runs", s.requireCap(store.CapAutomation, s.workflowRuns)).Methods(http.MethodGet)
	p.Handle("/settings/templates", s.requireCap(store.CapCustomize, s.templatesList)).Methods(http.MethodGet)
	p.Handle("/settings/templates", s.requireCap(store.CapCustomize, s.templateSave)).Methods(http.MethodPost)
	p.Handle("/settings/templates/new", s.requireCap(store.CapCustomize, s.templateNew)).Methods(http.MethodGet)
	p.Handle("/settings/templates/{id:[0-9]+}", s.requireCap(store.CapCustomize, s.templateEdit)).Methods(http.MethodGet)
	p.Handle("/settings/templates/{id:[0-9]+}", s.requireCap(store.CapCustomize, s.templateSave)).Methods(http.MethodPost)
	p.Handle("/settings/templates/{id:[0-9]+}/delete", s.requireCap(store.CapCustomize, s.templateDelete)).Methods(http.MethodPost)
	imp := func(h http.HandlerFunc) http.Handler { return s.requireCap(store.CapImport, h) }
	p.Handle("/import", imp(s.importIndex)).Methods(http.MethodGet)
	p.Handle("/import", imp(s.importUpload)).Methods(http.MethodPost)
	p.Handle("/import/staged/{token:[0-9a-f]{32}}", imp(s.importMap)).Methods(http.MethodGet)
	p.Handle("/import/staged/{token:[0-9a-f]{32}}", imp(s.importStart)).Methods(http.MethodPost)
	p.Handle("/import/{id:[0-9]+}", imp(s.importStatus)).Methods(http.MethodGet)
	p.Handle("/import/{id:[0-9]+}/errors.csv", imp(s.importFailures)).Methods(http.MethodGet)
	p.Handle("/import/{id:[0-9]+}/undo", imp(s.importUndo)).Methods(http.MethodPost)

	// E-mail read from the dropbox that matched no record (ui/inbox.go).
	p.Handle("/inbox", s.authed(s.inbox)).Methods(http.MethodGet)
	p.Handle("/inbox/{id:[0-9]+}/link", s.authed(s.inboxLink)).Methods(http.MethodPost)
	p.Handle("/inbox/{id:[0-9]+}/discard", s.authed(s.inboxDiscard)).Methods(http.MethodPost)
	// Standard reports and goals (ui/reports.go, ui/goals.go).
	p.Handle("/reports", s.authed(s.reportsIndex)).Methods(http.MethodGet)
	// The builder, saved reports, schedules and dashboards
	// (ui/report_builder.go, ui/report_schedules.go, ui/dashboards.go),
	// registered before /reports/{key} so they never read as report keys.
	p.Handle("/reports/builder", s.authed(s.builderPage)).Methods(http.MethodGet)
	p.Handle("/reports/saved", s.authed(s.savedReportSave)).Methods(http.MethodPost)
	p.Handle("/reports/saved/{id:[0-9]+}", s.authed(s.savedReportShow)).Methods(http.MethodGet)
	p.Handle("/reports/saved/{id:[0-9]+}", s.authed(s.savedReportSave)).Methods(http.MethodPost)
	p.Handle("/reports/saved/{id:[0-9]+}/delete", s.authed(s.savedReportDelete)).Methods(http.MethodPost)
	auto := func(h http.HandlerFunc) http.Handler { return s.requireCap(store.CapAutomation, h) }
	p.Handle("/reports/schedules", auto(s.schedulesPage)).Methods(http.MethodGet)
	p.Handle("/reports/schedules/new", auto(s.scheduleForm)).Methods(http.MethodGet)
	p.Handle("/reports/schedules", auto(s.scheduleSave)).Methods(http.MethodPost)
	p.Handle("/reports/schedules/{id:[0-9]+}", auto(s.scheduleForm)).Methods(http.MethodGet)
	p.Handle("/reports/schedules/{id:[0-9]+}", auto(s.scheduleSave)).Methods(http.MethodPost)
	p.Handle("/reports/schedules/{id:[0-9]+}/delete", auto(s.scheduleDelete)).Methods(http.MethodPost)
	p.Handle("/dashboard", s.authed(s.dashboardEdit)).Methods(http.MethodGet)
	p.Handle("/dashboard", s.authed(s.dashboardPost)).Methods(http.MethodPost)
	p.Handle("/reports/{key:[a-z_]+}", s.authed(s.reportShow)).Methods(http.MethodGet)
	p.Handle("/goals", s.authed(s.goalsPage)).Methods(http.MethodGet)
	p.Handle("/goals", s.authed(s.goalSave)).Methods(http.MethodPost)
	p.Handle("/goals/{id:[0-9]+}", s.authed(s.goalSave)).Methods(http.MethodPost)
	p.Handle("/goals/{id:[0-9]+}/delete", s.authed(s.goalDelete)).Methods(http.MethodPost)
	// Marketing: segments and campaigns (ui/marketing.go).
	p.Handle("/marketing", s.authed(s.marketingIndex)).Methods(http.MethodGet)
	p.Handle("/marketing/settings", s.requireCap(store.CapSettings, s.marketingSettings)).Methods(http.MethodPost)
	p.Handle("/marketing/segments", s.authed(s.segmentCreate)).Methods(http.MethodPost)
	p.Handle("/marketing/segments/{id:[0-9]+}", s.authed(s.segmentShow)).Methods(http.MethodGet)
	p.Handle("/marketing/segments/{id:[0-9]+}", s.authed(s.segmentSave)).Methods(http.MethodPost)
	p.Handle("/marketing/segments/{id:[0-9]+}/members", s.authed(s.segmentMembers)).Methods(http.MethodPost)
	p.Handle("/marketing/segments/{id:[0-9]+}/delete", s.authed(s.segmentDelete)).Methods(http.MethodPost)
	p.Handle("/marketing/campaigns", s.authed(s.campaignCreate)).Methods(http.MethodPost)
	p.Handle("/marketing/campaigns/{id:[0-9]+}", s.authed(s.campaignShow)).Methods(http.MethodGet)
	p.Handle("/marketing/campaigns/{id:[0-9]+}/{action:schedule|test|cancel}", s.authed(s.campaignAction)).Methods(http.MethodPost)
	p.Handle("/search", s.authed(s.search)).Methods(http.MethodGet)
	p.Handle("/tags", s.authed(s.tags)).Methods(http.MethodGet)
	p.Handle("/tags/{id:[0-9]+}", s.authed(s.tagRename)).Methods(http.MethodPost)
	p.Handle("/duplicates", s.authed(s.duplicates)).Methods(http.MethodGet)
	p.Handle("/duplicates/merge", s.authed(s.mergeForm)).Methods(http.MethodGet)
	p.Handle("/duplicates/merge", s.authed(s.mergeSubmit)).Methods(http.MethodPost)
	p.Handle("/duplicates/merges/{id:[0-9]+}/undo", s.authed(s.mergeUndo)).Methods(http.MethodPost)
	p.Handle("/trash", s.authed(s.trash)).Methods(http.MethodGet)
	p.Handle("/trash/{entity:"+entityPattern+"}/{id:[0-9]+}/restore", s.authed(s.trashRestore)).Methods(http.MethodPost)
	p.Handle("/trash/{entity:"+entityPattern+"}/{id:[0-9]+}/purge", s.authed(s.trashPurge)).Methods(http.MethodPost)
	// Files on records (ui/attachments.go); downloads check the record's
	// permission on every request.
	p.Handle("/{entity:"+attachmentPattern+"}/{id:[0-9]+}/attachments", s.authed(s.attachmentUpload)).Methods(http.MethodPost)
	p.Handle("/attachments/{id:[0-9]+}", s.authed(s.attachmentDownload)).Methods(http.MethodGet, http.MethodHead)
	p.Handle("/attachments/{id:[0-9]+}/thumb", s.authed(s.attachmentThumb)).Methods(http.MethodGet)
	p.Handle("/attachments/{id:[0-9]+}/rename", s.authed(s.attachmentRename)).Methods(http.MethodPost)
	p.Handle("/attachments/{id:[0-9]+}/{action:delete|restore|purge}", s.authed(s.attachmentChange)).Methods(http.MethodPost)
	// Products and quotes (ui/products.go, ui/quotes.go); /q/… is the
	// signed download link a sent quote's e-mail carries, without sign-in.
	p.Handle("/products", s.authed(s.productsList)).Methods(http.MethodGet)
	p.Handle("/products", s.requireCap(store.CapSettings, s.productSave)).Methods(http.MethodPost)
	p.Handle("/products/new", s.requireCap(store.CapSettings, s.productNew)).Methods(http.MethodGet)
	p.Handle("/products/export.csv", s.authed(s.productsExport)).Methods(http.MethodGet)
	p.Handle("/products/import", s.requireCap(store.CapSettings, s.productsImport)).Methods(http.MethodPost)
	p.Handle("/products/{id:[0-9]+}", s.requireCap(store.CapSettings, s.productEdit)).Methods(http.MethodGet)
	p.Handle("/products/{id:[0-9]+}", s.requireCap(store.CapSettings, s.productSave)).Methods(http.MethodPost)
	p.Handle("/settings/quotes", s.requireCap(store.CapSettings, s.quoteSettingsForm)).Methods(http.MethodGet)
	p.Handle("/settings/quotes", s.requireCap(store.CapSettings, s.quoteSettingsSave)).Methods(http.MethodPost)
	p.Handle("/quotes", s.authed(s.quotesList)).Methods(http.MethodGet)
	p.Handle("/quotes", s.authed(s.quoteCreate)).Methods(http.MethodPost)
	p.Handle("/opportunities/{id:[0-9]+}/quotes/new", s.authed(s.quoteNew)).Methods(http.MethodGet)
	p.Handle("/quotes/{id:[0-9]+}", s.authed(s.quoteShow)).Methods(http.MethodGet)
	p.Handle("/quotes/{id:[0-9]+}", s.authed(s.quoteUpdate)).Methods(http.MethodPost)
	p.Handle("/quotes/{id:[0-9]+}/edit", s.authed(s.quoteEdit)).Methods(http.MethodGet)
	p.Handle("/quotes/{id:[0-9]+}/pdf", s.authed(s.quotePDF)).Methods(http.MethodGet)
	p.Handle("/quotes/{id:[0-9]+}/status", s.authed(s.quoteStatus)).Methods(http.MethodPost)
	p.Handle("/quotes/{id:[0-9]+}/send", s.authed(s.quoteSend)).Methods(http.MethodPost)
	p.Handle("/quotes/{id:[0-9]+}/delete", s.authed(s.quoteDelete)).Methods(http.MethodPost)
	p.HandleFunc("/q/{id:[0-9]+}.pdf", s.quotePublicPDF).Methods(http.MethodGet)
	p.Handle("/opportunities/board", s.authed(s.board)).Methods(http.MethodGet)
	p.Handle("/opportunities/{id:[0-9]+}/stage", s.authed(s.stageMove)).Methods(http.MethodPost)
	p.Handle("/tasks/mine", s.authed(s.myTasks)).Methods(http.MethodGet)
	// Calendar, its feed and contact sync settings (ui/calendar.go).
	p.Handle("/calendar", s.authed(s.calendarPage)).Methods(http.MethodGet)
	p.Handle("/calendar/move", s.authed(s.calendarMove)).Methods(http.MethodPost)
	p.Handle("/profile/feed", s.authed(s.profileFeed)).Methods(http.MethodPost)
	p.Handle("/profile/sync", s.authed(s.syncPage)).Methods(http.MethodGet)
	p.Handle("/profile/sync", s.authed(s.profileSync)).Methods(http.MethodPost)
	p.Handle("/leads/{id:[0-9]+}/convert", s.authed(s.convertForm)).Methods(http.MethodGet)
	p.Handle("/leads/{id:[0-9]+}/convert", s.authed(s.convertSubmit)).Methods(http.MethodPost)
	// Customer service (ui/service.go): settings, replies from the case
	// page, the satisfaction report and the public survey links.
	p.Handle("/settings/service", s.requireCap(store.CapSettings, s.serviceSettingsForm)).Methods(http.MethodGet)
	p.Handle("/settings/service", s.requireCap(store.CapSettings, s.serviceSettingsSubmit)).Methods(http.MethodPost)
	p.Handle("/cases/{id:[0-9]+}/reply", s.authed(s.caseReply)).Methods(http.MethodPost)
	p.Handle("/service/satisfaction", s.authed(s.satisfactionReport)).Methods(http.MethodGet)
	p.HandleFunc("/survey/{token:[0-9]+\\.[A-Za-z0-9_-]+}/{score:[1-5]}", s.surveyAnswer).Methods(http.MethodGet)
	p.Handle("/lookup/{entity:"+entityPattern+"}", s.authed(s.lookup)).Methods(http.MethodGet)
	p.Handle("/{entity:"+entityPattern+"}", s.authed(s.recordList)).Methods(http.MethodGet)
	p.Handle("/{entity:"+entityPattern+"}", s.authed(s.recordCreate)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/export", s.authed(s.recordExport)).Methods(http.MethodGet)
	p.Handle("/{entity:"+entityPattern+"}/new", s.authed(s.recordNew)).Methods(http.MethodGet)
	p.Handle("/{entity:"+entityPattern+"}/bulk", s.authed(s.recordBulk)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/views", s.authed(s.viewSave)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/views/{id:[0-9]+}/delete", s.authed(s.viewDelete)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/{id:[0-9]+}", s.authed(s.recordShow)).Methods(http.MethodGet)
	p.Handle("/{entity:"+entityPattern+"}/{id:[0-9]+}", s.authed(s.recordUpdate)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/{id:[0-9]+}/edit", s.authed(s.recordEdit)).Methods(http.MethodGet)
	p.Handle("/{entity:accounts|contacts|leads}/{id:[0-9]+}/email", s.authed(s.recordEmailForm)).Methods(http.MethodGet)
	p.Handle("/{entity:accounts|contacts|leads}/{id:[0-9]+}/email", s.authed(s.recordEmailSend)).Methods(http.MethodPost)
	p.Handle("/{entity:"+entityPattern+"}/{id:[0-9]+}/delete", s.authed(s.recordDelete)).Methods(http.MethodPost)

	if s.opts.Pprof {
		d := p.PathPrefix("/debug/pprof").Subrouter()
		d.Handle("/", s.requireCap(store.CapSettings, pprof.Index))
		d.Handle("/profile", s.requireCap(store.CapSettings, pprof.Profile))
		d.Handle("/heap", s.requireCap(store.CapSettings, pprof.Handler("heap").ServeHTTP))
		d.Handle("/goroutine", s.requireCap(store.CapSettings, pprof.Handler("goroutine").ServeHTTP))
	}

	r.NotFoundHandler = s.pageContext(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
	}))
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})

	cop := http.NewCrossOriginProtection()
	// RFC 8058: a mail program's one-click unsubscribe is a cross-site POST
	// with no session; only this signed path skips the origin check (it
	// changes nothing but the signed recipient's own consent).
	cop.AddInsecureBypassPattern("POST /m/u/{campaign}/{record}/{sig}")
	var h http.Handler = r
	h = cop.Handler(h)
	h = attachmentBodies(h, limitBody(maxFormBody, h, "/import", "/api/v1/imports", dav.Prefix+"/"))
	h = securityHeaders(h)
	h = s.logRequests(h)
	return h
}

// healthz answers 200 while the database answers queries.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.st.Ping(r.Context()); err != nil {
		s.log.Error("health check", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"unavailable"}`))
		return
	}
	w.Write([]byte(`{"status":"ok"}`))
}
