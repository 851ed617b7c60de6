"""The yardstick of bench_browser.py: a bare Streamlit app of two pages, each one Plotly chart and a
number input that redraws it. Every action on the workbench is measured against the same action here."""
import plotly.graph_objects as go
import streamlit as st


def draw(title: str) -> None:
    st.title(title)
    points = st.number_input("Points", 1, 1000, 10, key=f"points_{title}")
    st.caption(f"{points} points")
    st.plotly_chart(go.Figure(go.Bar(x=list(range(points)), y=[i * i for i in range(points)])), key=f"chart_{title}")


def one() -> None:
    draw("One")


def two() -> None:
    draw("Two")


st.navigation([st.Page(one, title="One", default=True),
               st.Page(two, title="Two", url_path="two")]).run()
