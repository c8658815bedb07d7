from study.due import main

main()
