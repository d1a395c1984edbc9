# The cairn console shell.
PS1='\h:\w# '
alias ll='ls -l'
echo "cairn console: cairnctl status | cairnctl timeline | cairnctl poweroff"
