from kikimimi.cli import main

main()
