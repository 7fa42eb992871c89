from de_showcase.cli import main

main()
