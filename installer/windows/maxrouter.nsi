; MaxRouter's Windows installer (NSIS 3). A per-user install: no
; administrator rights, files in %LOCALAPPDATA%\Programs\MaxRouter, a
; Start-menu shortcut, the tray started at login from the per-user Run key
; (the same value the app's "Start at login" setting writes), and an
; uninstaller listed in Settings > Apps. The user's configuration and token
; store (%APPDATA%\maxrouter) are never touched.
;
; Built by the installer program (cd installer && go run .), which passes:
;   -DVERSION=x.y.z  the version, from FyneApp.toml
;   -DEXE=path       the cross-compiled maxrouter.exe
;   -DICON=path      maxrouter.ico, made from assets/icon.png
;   -DOUTFILE=path   the installer to write

Unicode true
!include "MUI2.nsh"
!include "FileFunc.nsh"

!macro REQUIRE name
  !ifndef ${name}
    !error "pass -D${name}= (see the comment at the top)"
  !endif
!macroend
!insertmacro REQUIRE VERSION
!insertmacro REQUIRE EXE
!insertmacro REQUIRE ICON
!insertmacro REQUIRE OUTFILE

!define APPNAME "MaxRouter"
!define REGKEY "Software\MaxRouter"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\MaxRouter"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define APPROVEDKEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
; The Run values: the tray's (app/autostart) and the daemon's (app/service).
!define RUNVALUE "MaxRouter"
!define DAEMONRUNVALUE "MaxRouter daemon"

Name "${APPNAME}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\MaxRouter"
InstallDirRegKey HKCU "${REGKEY}" "InstallDir"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ManifestDPIAware true
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} ${VERSION} setup"
VIAddVersionKey "LegalCopyright" "${APPNAME} developers"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\maxrouter.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME} now (it lives in the notification area)"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; StopRunning ends this user's tray and daemon so their files can be
; replaced or removed.
!macro STOP_RUNNING un
Function ${un}StopRunning
  IfFileExists "$INSTDIR\maxrouter.exe" 0 done
  nsExec::Exec '"$INSTDIR\maxrouter.exe" service stop'
  Pop $0
  nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM maxrouter.exe'
  Pop $0
  Sleep 500
done:
FunctionEnd
!macroend
!insertmacro STOP_RUNNING ""
!insertmacro STOP_RUNNING "un."

Section "${APPNAME} (required)" SecMain
  SectionIn RO
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  Call StopRunning
  File "/oname=maxrouter.exe" "${EXE}"
  File "/oname=maxrouter.ico" "${ICON}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "${REGKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${APPNAME} developers"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\maxrouter.ico"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" "$0"
SectionEnd

Section "Start menu shortcut" SecShortcut
  SetShellVarContext current
  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\maxrouter.exe" "" "$INSTDIR\maxrouter.ico" 0
SectionEnd

Section "Start ${APPNAME} at login" SecLogin
  ; The exact value app/autostart writes, so the app's setting shows it.
  WriteRegStr HKCU "${RUNKEY}" "${RUNVALUE}" '"$INSTDIR\maxrouter.exe"'
  DeleteRegValue HKCU "${APPROVEDKEY}" "${RUNVALUE}"
SectionEnd

Section "Uninstall"
  SetShellVarContext current
  Call un.StopRunning
  DeleteRegValue HKCU "${RUNKEY}" "${RUNVALUE}"
  DeleteRegValue HKCU "${RUNKEY}" "${DAEMONRUNVALUE}"
  DeleteRegValue HKCU "${APPROVEDKEY}" "${RUNVALUE}"
  DeleteRegValue HKCU "${APPROVEDKEY}" "${DAEMONRUNVALUE}"
  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$INSTDIR\maxrouter.exe"
  Delete "$INSTDIR\maxrouter.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "${REGKEY}"
SectionEnd
