from clbhealth.cli.main import main

main()
