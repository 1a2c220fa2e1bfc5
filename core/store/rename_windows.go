package store

// renameOpen tells whether a file can be renamed while open. Windows
// refuses: the temporary file is closed (and so unlocked) first.
const renameOpen = false
