package settings

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maxrouter/maxrouter/core/config"
	"github.com/maxrouter/maxrouter/core/words"
)

// A folder picker for Claude Code config folders. fyne's own hides
// dot-folders until "Show Hidden Files" is chosen in its menu, and every
// Claude Code folder (~/.claude, ~/.claude-work) is one; this one shows
// them from the start and marks the folders that hold a login.

// folder is one entry of the picker's list.
type folder struct {
	Name string
	// Login is true when the folder holds a Claude Code login
	// (.credentials.json).
	Login bool
}

// listFolders lists the folders in dir (symbolic links to folders too),
// dot-folders first as ls sorts them, hidden ones only when hidden is set.
func listFolders(dir string, hidden bool) ([]folder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []folder
	for _, e := range entries {
		name := e.Name()
		if !hidden && strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
			continue
		}
		_, err := os.Stat(filepath.Join(path, ".credentials.json"))
		out = append(out, folder{Name: name, Login: err == nil})
	}
	slices.SortStableFunc(out, func(a, b folder) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// folderPicker is the open folder picker.
type folderPicker struct {
	t       *accountsTab
	dlg     *dialog.CustomDialog
	dir     string // shown, absolute
	path    *widget.Entry
	list    *widget.List
	folders []folder
	hidden  *widget.Check
	err     *widget.Label
	choose  *widget.Button
}

// pickFolder opens the folder picker at the home directory; the folder
// chosen goes to onDirPicked.
func (t *accountsTab) pickFolder() {
	p := &folderPicker{t: t}
	p.path = widget.NewEntry()
	p.path.OnSubmitted = func(s string) { p.open(config.ExpandHome(strings.TrimSpace(s), t.w.opts.Home)) }
	up := widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { p.open(filepath.Dir(p.dir)) })
	p.hidden = widget.NewCheck("Show hidden folders", func(bool) { p.open(p.dir) })
	p.hidden.SetChecked(true)
	p.err = newErrorLabel()
	p.list = widget.NewList(
		func() int { return len(p.folders) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("")
			name.Truncation = fyne.TextTruncateEllipsis
			note := newHint("")
			note.Wrapping = fyne.TextWrapOff
			return container.NewBorder(nil, nil, widget.NewIcon(theme.FolderIcon()), note, name)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*fyne.Container)
			f := p.folders[i]
			c.Objects[0].(*widget.Label).SetText(f.Name)
			note := ""
			if f.Login {
				note = "Claude Code login"
			}
			setText(c.Objects[2].(*widget.RichText), hint(note))
		},
	)
	p.list.OnSelected = func(i widget.ListItemID) {
		p.list.UnselectAll()
		if i >= 0 && i < len(p.folders) {
			p.open(filepath.Join(p.dir, p.folders[i].Name))
		}
	}
	p.choose = widget.NewButtonWithIcon("Choose this folder", theme.ConfirmIcon(), p.onChoose)
	p.choose.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { p.dlg.Hide() })

	top := container.NewVBox(
		container.NewBorder(nil, nil, up, nil, p.path),
		p.err,
	)
	content := container.NewBorder(top, container.NewVBox(p.hidden, newHint("Open a folder with a click; choose the one Claude Code logged in to.")), nil, nil, p.list)
	p.dlg = dialog.NewCustomWithoutButtons("Choose a Claude Code config folder", content, t.w.win)
	p.dlg.SetButtons([]fyne.CanvasObject{cancel, p.choose})
	p.dlg.SetOnClosed(func() {
		if t.picker == p {
			t.picker = nil
		}
	})
	p.dlg.Resize(fyne.NewSize(600, 460))
	t.picker = p
	start := t.w.opts.Home
	if start == "" {
		start, _ = os.Getwd()
	}
	p.open(start)
	p.dlg.Show()
}

// open shows the folders in dir; a folder that cannot be read keeps the
// one shown, and says why.
func (p *folderPicker) open(dir string) {
	if dir == "" {
		return
	}
	dir = filepath.Clean(dir)
	folders, err := listFolders(dir, p.hidden.Checked)
	if err != nil {
		setError(p.err, "Cannot open "+words.Tilde(dir, p.t.w.opts.Home)+": "+err.Error())
		p.path.SetText(words.Tilde(p.dir, p.t.w.opts.Home))
		return
	}
	setError(p.err, "")
	p.dir, p.folders = dir, folders
	p.path.SetText(words.Tilde(dir, p.t.w.opts.Home))
	p.list.Refresh()
	p.list.ScrollToTop()
}

// onChoose takes the folder shown.
func (p *folderPicker) onChoose() {
	p.dlg.Hide()
	p.t.onDirPicked(p.dir)
}
