#[derive(Debug)]
struct MyError;

#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.fail")]
    fn fail(&self) -> Result<i64, MyError> {
        Err(MyError)
    }

    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn on_join(&self) -> Result<(), MyError> {
        Ok(())
    }
}

fn main() {}
