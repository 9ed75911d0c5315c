from clbhealth.cli import main

main()
