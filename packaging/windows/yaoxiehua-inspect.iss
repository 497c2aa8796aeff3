; Inno Setup 6 script: the Windows installer of the one-folder build.
; On a Windows machine (not built or tested on the Linux CI):
;   py -3.11 -m venv .venv && .venv\Scripts\pip install -r requirements-dev.txt
;   .venv\Scripts\pyinstaller --noconfirm pyinstaller.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\yaoxiehua-inspect.iss
; writes dist\yaoxiehua-inspect-setup-<version>.exe. AppVersion: pyproject.toml's [project] version
; (docs/install.md has a one-line PowerShell to read it).
;
; Installs per machine under Program Files; the user's data (%LOCALAPPDATA%\yaoxiehua-inspect:
; the database, attachments, backups, logs) is never touched: an upgrade installs over the old
; folder and the first start migrates the database (with a backup first); uninstalling leaves it.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "药械化现场检查"
#define AppExe "yaoxiehua-inspect.exe"
#define CliExe "yaoxiehua-inspect-cli.exe"

[Setup]
; the same AppId for every version: a newer installer upgrades in place
AppId={{5B0E2C51-7A1D-4C8B-9E43-2F6D1A9C7E10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=药械化现场检查
DefaultDirName={autopf}\yaoxiehua-inspect
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=yaoxiehua-inspect-setup-{#AppVersion}
SetupIconFile=..\..\resources\icons\yaoxiehua-inspect.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
; close a running copy before replacing its files
CloseApplications=yes
; the CLI's folder on PATH for all users (yaoxiehua-inspect-cli in cmd / PowerShell)
ChangesEnvironment=yes

[Languages]
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"

[Tasks]
Name: "desktopicon"; Description: "创建桌面快捷方式"; GroupDescription: "附加任务："
Name: "addtopath"; Description: "把命令行程序 yaoxiehua-inspect-cli 加入 PATH"; GroupDescription: "附加任务："

[InstallDelete]
; an upgrade replaces the program folder's libraries entirely (a file the new build dropped must not linger)
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\..\dist\yaoxiehua-inspect\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; \
  ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppExe}"; Description: "启动 {#AppName}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
