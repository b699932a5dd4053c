@echo off
for /f "tokens=2 delims=:" %%c in ('chcp') do set "XL_OLDCP=%%c"
chcp 936 >nul
rem 月度报送（xl-automation submit）。把台账文件拖到本文件的图标上即可，可一次拖多个。
rem 需要本机安装 Python 和 xl-automation（见 docs/安装说明.md），不需要 Excel，WPS 用户也可使用。
setlocal
if "%~1"=="" (
  echo 用法：把台账文件（.xlsx 或 .xlsm）拖到本文件的图标上。请先在 Excel/WPS 中保存并关闭该文件。
  pause
  if defined XL_OLDCP chcp %XL_OLDCP% >nul
  exit /b 2
)
set "PY=py -3"
where py >nul 2>nul || set "PY=python"
if defined XL_AUTOMATION_PYTHON if exist "%XL_AUTOMATION_PYTHON%" set PY="%XL_AUTOMATION_PYTHON%"
set "TO=%XL_AUTOMATION_SUBMIT_DIR%"
if "%TO%"=="" set /p "TO=请输入报送目录（集团营销服务中心收取报送文件的文件夹）："
:next
if "%~1"=="" goto done
echo.
echo ==== "%~nx1"
%PY% -m xl_automation submit "%~1" --to "%TO%"
shift
goto next
:done
echo.
pause
if defined XL_OLDCP chcp %XL_OLDCP% >nul
