package ui

import (
	"net/http"
	"net/url"

	"cartera/store"
)

// rolesData feeds the roles list.
type rolesData struct {
	Roles []*store.Role
}

func (s *Server) rolesList(w http.ResponseWriter, r *http.Request) {
	roles, err := s.st.FindRoles(r.Context(), reqCtxOf(r).actor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "settings.roles")
	p.Section = "settings"
	p.Data = rolesData{Roles: roles}
	s.render(w, r, http.StatusOK, "roles", p)
}

// roleFormData feeds the role editor: one row per entity, one select per
// action, plus capabilities and sections.
type roleFormData struct {
	Role         *store.Role // nil when creating
	Entities     []store.Entity
	Actions      []store.Action
	Scopes       []store.Scope
	Capabilities []store.Capability
	Sections     []store.Section
	Perms        store.Permissions
	Chosen       []store.Section
}

// roleInputFromForm reads the editor's fields: perm.ENTITY.ACTION = scope,
// cap = capability (repeated), section = section (repeated).
func roleInputFromForm(f url.Values) store.RoleInput {
	in := store.RoleInput{Key: f.Get("key"), Name: f.Get("name"), Permissions: store.Permissions{Entities: map[store.Entity]map[store.Action]store.Scope{}}}
	for _, e := range store.Entities {
		for _, a := range store.Actions {
			v := f.Get("perm." + string(e) + "." + string(a))
			if v == "" {
				continue
			}
			if in.Permissions.Entities[e] == nil {
				in.Permissions.Entities[e] = map[store.Action]store.Scope{}
			}
			in.Permissions.Entities[e][a] = store.Scope(v)
		}
	}
	for _, c := range f["cap"] {
		in.Permissions.Capabilities = append(in.Permissions.Capabilities, store.Capability(c))
	}
	for _, sc := range f["section"] {
		in.Sections = append(in.Sections, store.Section(sc))
	}
	return in
}

func (s *Server) renderRoleForm(w http.ResponseWriter, r *http.Request, status int, role *store.Role, in *store.RoleInput, err error) {
	d := roleFormData{Role: role, Entities: store.Entities, Actions: store.Actions, Scopes: store.Scopes, Capabilities: store.Capabilities, Sections: store.Sections}
	title := "roles.new"
	p := s.newPage(r, title)
	if role != nil {
		p.Title = "roles.edit"
		p.Form.Set("key", role.Key)
		p.Form.Set("name", role.Name)
		d.Perms, d.Chosen = role.Permissions, role.Sections
	} else {
		d.Chosen = []store.Section{"home"}
	}
	if in != nil {
		p.Form.Set("key", in.Key)
		p.Form.Set("name", in.Name)
		d.Perms, d.Chosen = in.Permissions, in.Sections
	}
	p.Section = "settings"
	p.Data = d
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.render(w, r, status, "role_form", p)
}

// ScopeOf returns the scope chosen for an entity and action in the editor.
func (d roleFormData) ScopeOf(e store.Entity, a store.Action) string {
	return string(d.Perms.Scope(e, a))
}

// HasCap reports whether the edited role holds a capability.
func (d roleFormData) HasCap(c store.Capability) bool { return d.Perms.Has(c) }

// HasSection reports whether the edited role shows a section.
func (d roleFormData) HasSection(sc store.Section) bool {
	for _, x := range d.Chosen {
		if x == sc {
			return true
		}
	}
	return false
}

func (s *Server) roleNewForm(w http.ResponseWriter, r *http.Request) {
	s.renderRoleForm(w, r, http.StatusOK, nil, nil, nil)
}

func (s *Server) roleCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	in := roleInputFromForm(r.PostForm)
	role, err := s.st.CreateRole(r.Context(), reqCtxOf(r).actor, in)
	if err != nil {
		s.renderRoleForm(w, r, 0, nil, &in, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/roles/"+itoa(role.ID))
}

func (s *Server) loadRole(w http.ResponseWriter, r *http.Request) (*store.Role, bool) {
	role, err := s.st.FindRole(r.Context(), reqCtxOf(r).actor, pathID(r, "id"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return role, true
}

func (s *Server) roleEditForm(w http.ResponseWriter, r *http.Request) {
	role, ok := s.loadRole(w, r)
	if !ok {
		return
	}
	s.renderRoleForm(w, r, http.StatusOK, role, nil, nil)
}

func (s *Server) roleUpdate(w http.ResponseWriter, r *http.Request) {
	role, ok := s.loadRole(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	in := roleInputFromForm(r.PostForm)
	in.Key = role.Key
	if _, err := s.st.UpdateRole(r.Context(), reqCtxOf(r).actor, role.ID, in); err != nil {
		s.renderRoleForm(w, r, 0, role, &in, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/roles/"+itoa(role.ID))
}

func (s *Server) roleDelete(w http.ResponseWriter, r *http.Request) {
	role, ok := s.loadRole(w, r)
	if !ok {
		return
	}
	if err := s.st.DeleteRole(r.Context(), reqCtxOf(r).actor, role.ID); err != nil {
		s.renderRoleForm(w, r, 0, role, nil, err)
		return
	}
	s.flash(w, r, "success", "flash.deleted")
	redirect(w, r, "/settings/roles")
}

// teamsData feeds the teams page.
type teamsData struct {
	Teams []*store.Team
}

func (s *Server) renderTeams(w http.ResponseWriter, r *http.Request, status int, form url.Values, err error) {
	teams, terr := s.st.FindTeams(r.Context(), reqCtxOf(r).actor)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	p := s.newPage(r, "settings.teams")
	p.Section = "settings"
	p.Data = teamsData{Teams: teams}
	if form != nil {
		p.Form = form
	}
	if err != nil {
		status = s.formErrors(r, p, err)
	}
	s.render(w, r, status, "teams", p)
}

func (s *Server) teamsList(w http.ResponseWriter, r *http.Request) {
	s.renderTeams(w, r, http.StatusOK, nil, nil)
}

func (s *Server) saveTeam(w http.ResponseWriter, r *http.Request, id int64) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if _, err := s.st.SaveTeam(r.Context(), reqCtxOf(r).actor, id, r.PostForm.Get("name")); err != nil {
		s.renderTeams(w, r, 0, r.PostForm, err)
		return
	}
	s.flash(w, r, "success", "flash.saved")
	redirect(w, r, "/settings/teams")
}

func (s *Server) teamCreate(w http.ResponseWriter, r *http.Request) { s.saveTeam(w, r, 0) }

func (s *Server) teamRename(w http.ResponseWriter, r *http.Request) {
	s.saveTeam(w, r, pathID(r, "id"))
}

func (s *Server) teamDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.st.DeleteTeam(r.Context(), reqCtxOf(r).actor, pathID(r, "id")); err != nil {
		s.renderTeams(w, r, 0, nil, err)
		return
	}
	s.flash(w, r, "success", "flash.deleted")
	redirect(w, r, "/settings/teams")
}
