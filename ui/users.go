package ui

import (
	"net/http"
	"net/url"

	"cartera/store"
)

// profileData feeds the profile page.
type profileData struct {
	User      *store.User
	Tokens    []*store.Token
	NewToken  string
	Timezones []string
	Notify    notifyPrefsData
}

func userForm(u *store.User) url.Values {
	return url.Values{"name": {u.Name}, "email": {u.Email}, "language": {u.Language}, "timezone": {u.Timezone},
		"role": {u.RoleKey}, "team_id": {itoa(u.TeamID)}}
}

// renderProfile shows the actor's own page: name, language, time zone,
// password and API tokens.
func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, status int, form url.Values, err error, newToken string) {
	a := reqCtxOf(r).actor
	ctx := r.Context()
	u, uerr := s.st.FindUser(ctx, a, a.UserID)
	if uerr != nil {
		s.fail(w, r, uerr)
		return
	}
	tokens, terr := s.st.FindTokens(ctx, a, a.UserID)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	notify, nerr := s.notifyPrefs(r)
	if nerr != nil {
		s.fail(w, r, nerr)
		return
	}
	p := s.newPage(r, "profile.title")
	p.Data = profileData{User: u, Tokens: tokens, NewToken: newToken, Timezones: timezones, Notify: notify}
	p.Form = userForm(u)
	if form != nil {
		p.Form = form
	}
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.render(w, r, status, "profile", p)
}

func (s *Server) profileForm(w http.ResponseWriter, r *http.Request) {
	s.renderProfile(w, r, http.StatusOK, nil, nil, "")
}

func (s *Server) profileSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	f := r.PostForm
	name, lang, tz := f.Get("name"), f.Get("language"), f.Get("timezone")
	if _, err := s.st.UpdateUser(r.Context(), a, a.UserID, store.UserUpdate{Name: &name, Language: &lang, Timezone: &tz}); err != nil {
		s.renderProfile(w, r, 0, f, err, "")
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/profile")
}

// profilePassword changes the actor's password; every session of theirs
// ends, and this browser gets a fresh one so they stay signed in here.
func (s *Server) profilePassword(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	f := r.PostForm
	if f.Get("new_password") != f.Get("confirm_password") {
		s.renderProfile(w, r, 0, nil, &store.Error{Code: store.CodeInvalid, Key: "error.invalid", Fields: map[string]string{"confirm_password": "error.password_mismatch"}}, "")
		return
	}
	if err := s.st.SetPassword(r.Context(), a, a.UserID, f.Get("current_password"), f.Get("new_password")); err != nil {
		s.renderProfile(w, r, 0, nil, err, "")
		return
	}
	reqCtxOf(r).session = nil
	if err := s.startSession(w, r, a.UserID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.password_changed")
	redirect(w, r, "/profile")
}

// profileTokenCreate makes an API token and shows its secret once.
func (s *Server) profileTokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	a := reqCtxOf(r).actor
	secret, _, err := s.st.CreateToken(r.Context(), a, a.UserID, r.PostForm.Get("label"))
	if err != nil {
		s.renderProfile(w, r, 0, nil, err, "")
		return
	}
	s.renderProfile(w, r, http.StatusOK, nil, nil, secret)
}

func (s *Server) profileTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.st.RevokeToken(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.token_revoked")
	redirect(w, r, "/profile")
}

// usersData feeds the users list.
type usersData struct {
	Users []*store.User
}

func (s *Server) usersList(w http.ResponseWriter, r *http.Request) {
	users, err := s.st.FindUsers(r.Context(), reqCtxOf(r).actor, store.UserFilter{IncludeDisabled: true})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "settings.users")
	p.Section = "settings"
	p.Data = usersData{Users: users}
	s.render(w, r, http.StatusOK, "users", p)
}

// userFormData feeds the create/edit user form.
type userFormData struct {
	User      *store.User // nil when creating
	Roles     []*store.Role
	Teams     []*store.Team
	Tokens    []*store.Token
	Timezones []string
	Self      bool
}

func (s *Server) renderUserForm(w http.ResponseWriter, r *http.Request, status int, u *store.User, form url.Values, err error) {
	a := reqCtxOf(r).actor
	ctx := r.Context()
	roles, rerr := s.st.FindRoles(ctx, a)
	if rerr != nil {
		s.fail(w, r, rerr)
		return
	}
	teams, terr := s.st.FindTeams(ctx, a)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	d := userFormData{User: u, Roles: roles, Teams: teams, Timezones: timezones}
	title := "users.new"
	if u != nil {
		title = "users.edit"
		d.Self = u.ID == a.UserID
		if d.Tokens, terr = s.st.FindTokens(ctx, a, u.ID); terr != nil && store.ErrorCode(terr) != store.CodeForbidden {
			s.fail(w, r, terr)
			return
		}
	}
	p := s.newPage(r, title)
	p.Section = "settings"
	p.Data = d
	if form != nil {
		p.Form = form
	} else if u != nil {
		p.Form = userForm(u)
	} else {
		p.Form.Set("role", "salesperson")
	}
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.render(w, r, status, "user_form", p)
}

func (s *Server) userNewForm(w http.ResponseWriter, r *http.Request) {
	s.renderUserForm(w, r, http.StatusOK, nil, nil, nil)
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	u, err := s.st.CreateUser(r.Context(), reqCtxOf(r).actor, store.UserInput{
		Email: f.Get("email"), Name: f.Get("name"), Password: f.Get("password"), RoleKey: f.Get("role"),
		TeamID: parseInt64(f.Get("team_id")), Language: f.Get("language"), Timezone: f.Get("timezone"),
	})
	if err != nil {
		f.Del("password")
		s.renderUserForm(w, r, 0, nil, f, err)
		return
	}
	s.flash(w, r, "success", "flash.user_created")
	redirect(w, r, "/settings/users/"+itoa(u.ID))
}

// loadUser fetches the user of the route for the admin pages.
func (s *Server) loadUser(w http.ResponseWriter, r *http.Request) (*store.User, bool) {
	u, err := s.st.FindUser(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return u, true
}

func (s *Server) userEditForm(w http.ResponseWriter, r *http.Request) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	s.renderUserForm(w, r, http.StatusOK, u, nil, nil)
}

func (s *Server) userUpdate(w http.ResponseWriter, r *http.Request) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	f := r.PostForm
	up := store.UserUpdate{}
	name, email, lang, tz := f.Get("name"), f.Get("email"), f.Get("language"), f.Get("timezone")
	up.Name, up.Email, up.Language, up.Timezone = &name, &email, &lang, &tz
	a := reqCtxOf(r).actor
	if u.ID != a.UserID {
		role, team := f.Get("role"), parseInt64(f.Get("team_id"))
		up.RoleKey, up.TeamID = &role, &team
	}
	if _, err := s.st.UpdateUser(r.Context(), a, u.ID, up); err != nil {
		s.renderUserForm(w, r, 0, u, f, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/users/"+itoa(u.ID))
}

// userPassword lets a user manager set a new password for someone; their
// sessions end at once.
func (s *Server) userPassword(w http.ResponseWriter, r *http.Request) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.st.SetPassword(r.Context(), reqCtxOf(r).actor, u.ID, "", r.PostForm.Get("password")); err != nil {
		s.renderUserForm(w, r, 0, u, nil, err)
		return
	}
	s.flash(w, r, "success", "flash.password_reset")
	redirect(w, r, "/settings/users/"+itoa(u.ID))
}

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) {
	u, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	if _, err := s.st.UpdateUser(r.Context(), reqCtxOf(r).actor, u.ID, store.UserUpdate{Disabled: &disabled}); err != nil {
		s.renderUserForm(w, r, 0, u, nil, err)
		return
	}
	key := "flash.user_enabled"
	if disabled {
		key = "flash.user_disabled"
	}
	s.flash(w, r, "success", key)
	redirect(w, r, "/settings/users/"+itoa(u.ID))
}

func (s *Server) userDisable(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, true) }

func (s *Server) userEnable(w http.ResponseWriter, r *http.Request) { s.setDisabled(w, r, false) }

func (s *Server) userTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.st.RevokeToken(r.Context(), reqCtxOf(r).actor, pathID(r, "token")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, "success", "flash.token_revoked")
	redirect(w, r, "/settings/users/"+itoa(pathID(r, "id")))
}
