import FunctionsRuntime

await HandlerMain.run(role: .search)
