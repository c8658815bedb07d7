from study.entry import main

main()
